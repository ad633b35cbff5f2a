/**
 * A small typed vim25 client: a session (RetrieveServiceContent, Login, Logout), reading properties
 * with the PropertyCollector (RetrievePropertiesEx and its continuation), listing the VMs of the
 * inventory through a container view, and waiting for a task by polling its `info`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { VsphereFaultError, VsphereLoginError, VsphereTaskError } from './errors';
import { SoapTransport } from './soap';
import { all, type El, el, type Mor, morEl, morOf, type Node, one, text, xsiType } from './xml';

export interface VsphereConnection {
  /** The /sdk URL of vCenter or the ESX host. */
  url: string;
  username: string;
  password: string;
  requestTimeoutMs: number;
  taskTimeoutMs: number;
}

/** One object as the PropertyCollector returned it: its reference and each asked property's value. */
export interface ObjectContent {
  obj: Mor;
  props: Map<string, Node>;
}

const SERVICE_INSTANCE: Mor = { type: 'ServiceInstance', value: 'ServiceInstance' };
/** How often a task's state is asked while it runs. */
const TASK_POLL_MS = 200;

export class VimClient {
  private constructor(
    private readonly soap: SoapTransport,
    readonly content: ServiceContent,
    private readonly taskTimeoutMs: number,
  ) {}

  /** Opens a session; VsphereLoginError when the credentials are refused. `who` names the caller in messages. */
  static async login(c: VsphereConnection, who: string): Promise<VimClient> {
    const soap = new SoapTransport(c.url, who, c.requestTimeoutMs);
    const content = serviceContent(await soap.value('RetrieveServiceContent', SERVICE_INSTANCE));
    try {
      await soap.call('Login', content.sessionManager, [el('userName', c.username), el('password', c.password)]);
    } catch (err) {
      if (err instanceof VsphereFaultError && err.fault === 'InvalidLogin')
        throw new VsphereLoginError(who, c.url, c.username);
      throw err;
    }
    return new VimClient(soap, content, c.taskTimeoutMs);
  }

  get who(): string {
    return this.soap.who;
  }

  /** Ends the session; a session that is already gone is no failure. */
  async logout(): Promise<void> {
    await this.soap.call('Logout', this.content.sessionManager).catch(() => undefined);
  }

  call(method: string, self: Mor, params: (El | undefined)[] = []): Promise<Node | undefined> {
    return this.soap.value(method, self, params);
  }

  /** The properties `paths` of each of `objs` (all of one type). */
  async properties(objs: readonly Mor[], type: string, paths: readonly string[]): Promise<ObjectContent[]> {
    if (objs.length === 0) return [];
    return this.retrieve(
      type,
      paths,
      objs.map((o) => el('objectSet', [morEl('obj', o), el('skip', false)])),
    );
  }

  /** The properties `paths` of every object of `type` under the root folder (a recursive container view). */
  async inventory(type: string, paths: readonly string[]): Promise<ObjectContent[]> {
    const view = morOf(
      await this.call('CreateContainerView', this.content.viewManager, [
        morEl('container', this.content.rootFolder),
        el('type', type),
        el('recursive', true),
      ]),
    );
    if (!view) throw new VsphereFaultError(this.who, 'CreateContainerView', 'NoView', 'no view was returned');
    try {
      const traverse = el(
        'selectSet',
        [el('name', 'view'), el('type', 'ContainerView'), el('path', 'view'), el('skip', false)],
        'TraversalSpec',
      );
      return await this.retrieve(type, paths, [el('objectSet', [morEl('obj', view), el('skip', true), traverse])]);
    } finally {
      await this.call('DestroyView', view).catch(() => undefined);
    }
  }

  /** Waits for `task` to end; resolves to its result (a MOR for CloneVM_Task), throws its error. */
  async waitTask(task: Mor, method: string): Promise<Node | undefined> {
    const until = Date.now() + this.taskTimeoutMs;
    for (;;) {
      const [content] = await this.properties([task], 'Task', ['info']);
      const info = content?.props.get('info');
      const state = text(one(info, 'state'));
      if (state === 'success') return one(info, 'result');
      if (state === 'error') {
        const error = one(info, 'error');
        const fault = xsiType(one(error, 'fault')) ?? 'MethodFault';
        throw new VsphereTaskError(this.who, method, fault, text(one(error, 'localizedMessage')));
      }
      if (Date.now() >= until)
        throw new VsphereTaskError(
          this.who,
          method,
          'timeout',
          `still ${state || 'unknown'} after ${this.taskTimeoutMs / 1000} s`,
        );
      await sleep(TASK_POLL_MS);
    }
  }

  /** Starts a `…_Task` method and waits for it. */
  async runTask(method: string, self: Mor, params: (El | undefined)[] = []): Promise<Node | undefined> {
    const task = morOf(await this.call(method, self, params));
    if (!task) throw new VsphereFaultError(this.who, method, 'NoTask', 'no task was returned');
    return this.waitTask(task, method);
  }

  private async retrieve(type: string, paths: readonly string[], objectSets: El[]): Promise<ObjectContent[]> {
    const spec = el('specSet', [
      el('propSet', [el('type', type), el('all', false), ...paths.map((p) => el('pathSet', p))]),
      ...objectSets,
    ]);
    const out: ObjectContent[] = [];
    let result = await this.call('RetrievePropertiesEx', this.content.propertyCollector, [
      spec,
      el('options', [el('maxObjects', 500)]),
    ]);
    for (;;) {
      for (const o of all(result, 'objects')) {
        const obj = morOf(one(o, 'obj'));
        if (!obj) continue;
        const props = new Map<string, Node>();
        for (const p of all(o, 'propSet')) props.set(text(one(p, 'name')), one(p, 'val') ?? '');
        out.push({ obj, props });
      }
      const token = text(one(result, 'token'));
      if (!token) return out;
      result = await this.call('ContinueRetrievePropertiesEx', this.content.propertyCollector, [el('token', token)]);
    }
  }
}

export interface ServiceContent {
  rootFolder: Mor;
  propertyCollector: Mor;
  viewManager: Mor;
  sessionManager: Mor;
  searchIndex: Mor;
  /** vCenter's (or the host's) own instance UUID: the hypervisor its VMs are reported under. */
  instanceUuid?: string;
  apiType: string;
}

function serviceContent(n: Node | undefined): ServiceContent {
  const ref = (name: string, type: string): Mor => morOf(one(n, name)) ?? { type, value: name };
  const about = one(n, 'about');
  const instanceUuid = text(one(about, 'instanceUuid'));
  return {
    rootFolder: ref('rootFolder', 'Folder'),
    propertyCollector: ref('propertyCollector', 'PropertyCollector'),
    viewManager: ref('viewManager', 'ViewManager'),
    sessionManager: ref('sessionManager', 'SessionManager'),
    searchIndex: ref('searchIndex', 'SearchIndex'),
    ...(instanceUuid ? { instanceUuid } : {}),
    apiType: text(one(about, 'apiType')),
  };
}
