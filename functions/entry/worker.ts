/** workerd (Miniflare) entry: the bindings are the environment. */
import { createApp } from '../app';

export default createApp();
