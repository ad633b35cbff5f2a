/**
 * The CDK app: `npm run synth`, or `npx cdk <command> --app "npx tsx infra/aws/app.ts"` from the
 * repository root (`npx cdk <command>` in infra/aws). Synthesis is offline: no lookups, no credentials.
 */
import { buildApp } from './build';

buildApp().app.synth();
