/**
 * The HTTP API: every route goes to the functions, which check the bearer token themselves.
 * Access logs go to CloudWatch; the stage throttles bursts before they reach Lambda.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

const accessLogFormat = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationError: '$context.integrationErrorMessage',
});

export class Api extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly url: string;

  constructor(scope: Construct, id: string, props: { function: lambda.IFunction }) {
    super(scope, id);
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: 'encompass',
      description: 'ENCOMPASS /v1 API',
      defaultIntegration: new HttpLambdaIntegration('Functions', props.function),
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 200, burstLimit: 400 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(accessLogFormat),
      },
    });
    // The `$default` stage serves at the API's root: the endpoint, without a trailing slash, is the base URL.
    this.url = this.httpApi.apiEndpoint;
    NagSuppressions.addResourceSuppressions(
      this.httpApi,
      [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Every /v1 route but GET /v1/health checks an Authorization: Bearer token against the token table inside the ' +
            'functions (roles viewer, operator, admin, agent); an API Gateway authorizer would repeat that lookup.',
        },
      ],
      true,
    );
  }
}
