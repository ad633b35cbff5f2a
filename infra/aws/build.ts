/** Builds the app from its context: the stack, with cdk-nag's AwsSolutions checks on every resource. */
import { App, type AppProps, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from './settings';
import { EncompassStack } from './stack';

export const STACK_NAME = 'Encompass';

/** Feature flags the stack relies on, set here so every way of running the app gets them. */
const featureFlags = {
  // Access logs are delivered under a bucket policy, so the log bucket needs no ACLs.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

export function buildApp(props: AppProps = {}, functionsCodeDir?: string): { app: App; stack: EncompassStack } {
  const app = new App({ ...props, context: { ...featureFlags, ...props.context } });
  const settings = settingsFromContext((key) => app.node.tryGetContext(key));
  const stack = new EncompassStack(app, STACK_NAME, {
    settings,
    functionsCodeDir,
    description: `ENCOMPASS control plane (sites: ${settings.sites.join(', ')})`,
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { app, stack };
}
