/**
 * A mock of an Intel AMT firmware's WS-Management service (no AMT simulator exists): an HTTP server
 * on a free 127.0.0.1 port that demands HTTP Digest authentication (qop=auth, MD5) for one user,
 * parses the envelopes it is sent, and keeps the machine's power state, its next boot and the
 * AMT_BootSettingData it was given. It answers as AMT does, with prefixed namespaces, the MACs of
 * its Ethernet ports written with dashes and PlatformGUID in AMT's byte order. With `tls`, it serves
 * HTTPS with the key and certificate given, as AMT does on 16993.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { XMLParser } from 'fast-xml-parser';

export interface AmtMock {
  host: string;
  port: number;
  user: string;
  password: string;
  /** What the operating system shows as the UUID. */
  uuid: string;
  serial: string;
  state: {
    power: number;
    bootSource?: string;
    bootSettings: Record<string, unknown>;
    /** Each RequestPowerStateChange, in order. */
    requests: number[];
    /** The Action of every authenticated envelope. */
    actions: string[];
    /** Every HTTP request that reached the service, authenticated or not. */
    received: number;
    /** Requests refused for a wrong digest. */
    refused: number;
    /** When set, a graceful off (12) is refused with this ReturnValue. */
    refuseGraceful?: number;
  };
  stop(): Promise<void>;
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, trimValues: true });
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const REALM = 'Digest:A3829B3827DE4D33D4449B366831FD01';

export interface AmtMockOptions {
  /** PEM key and certificate: serve HTTPS instead of HTTP. */
  tls?: { key: string; cert: string };
}

export async function startAmtMock(options: AmtMockOptions = {}): Promise<AmtMock> {
  const user = 'admin';
  const password = `P@ss-${randomBytes(6).toString('hex')}`;
  const nonce = randomBytes(16).toString('hex');
  const uuid = '8a3e0c4b-6f1d-4e2a-9b7c-1d2e3f405162';
  const serial = 'AMT-SN-0042';
  const state: AmtMock['state'] = {
    power: 8,
    bootSettings: { ElementName: 'Intel(r) AMT Boot Configuration Settings', UseIDER: 'false' },
    requests: [],
    actions: [],
    received: 0,
    refused: 0,
  };

  const authorized = (header: string | undefined): boolean => {
    if (!header?.startsWith('Digest ')) return false;
    const p: Record<string, string> = {};
    for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) p[m[1]!] = m[2] ?? m[3] ?? '';
    if (
      p['username'] !== user ||
      p['realm'] !== REALM ||
      p['nonce'] !== nonce ||
      p['qop'] !== 'auth' ||
      p['uri'] !== '/wsman'
    )
      return false;
    const ha1 = md5(`${user}:${REALM}:${password}`);
    const ha2 = md5('POST:/wsman');
    return p['response'] === md5(`${ha1}:${nonce}:${p['nc']}:${p['cnonce']}:auth:${ha2}`);
  };

  const listener: http.RequestListener = (req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      state.received++;
      if (!authorized(req.headers.authorization)) {
        if (req.headers.authorization) state.refused++;
        res.writeHead(401, {
          'WWW-Authenticate': `Digest realm="${REALM}", nonce="${nonce}", stale="false", qop="auth"`,
        });
        return res.end();
      }
      const env = (
        parser.parse(body) as { Envelope?: { Header?: Record<string, unknown>; Body?: Record<string, unknown> } }
      ).Envelope;
      const action = String(env?.Header?.['Action'] ?? '');
      const resource =
        String(env?.Header?.['ResourceURI'] ?? '')
          .split('/')
          .pop() ?? '';
      state.actions.push(action);
      const answer = handle(state, action, resource, env?.Body ?? {}, uuid, serial);
      res.writeHead(answer.fault ? 400 : 200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' });
      res.end(envelope(answer.xml));
    });
  };
  const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    uuid,
    serial,
    state,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><a:Envelope xmlns:a="http://www.w3.org/2003/05/soap-envelope" xmlns:b="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:g="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><a:Header><b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To></a:Header><a:Body>${body}</a:Body></a:Envelope>`;
}

/** AMT's byte order for a GUID: the first three fields little-endian. */
function amtGuid(uuid: string): string {
  const h = uuid.replace(/-/g, '').toUpperCase();
  const swap = (s: string) => s.match(/../g)!.reverse().join('');
  return swap(h.slice(0, 8)) + swap(h.slice(8, 12)) + swap(h.slice(12, 16)) + h.slice(16);
}

const output = (cls: string, method: string, rv: number) =>
  `<h:${method}_OUTPUT xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/${cls}"><h:ReturnValue>${rv}</h:ReturnValue></h:${method}_OUTPUT>`;

function handle(
  state: AmtMock['state'],
  action: string,
  resource: string,
  body: Record<string, unknown>,
  uuid: string,
  serial: string,
): { xml: string; fault?: boolean } {
  const verb = action.split('/').pop();
  const instance = (cls: string, fields: Record<string, unknown>) =>
    `<h:${cls} xmlns:h="http://x/${cls}">${Object.entries(fields)
      .map(([k, v]) => `<h:${k}>${v}</h:${k}>`)
      .join('')}</h:${cls}>`;
  if (verb === 'Get' && resource === 'AMT_BootSettingData')
    return { xml: instance('AMT_BootSettingData', state.bootSettings) };
  if (verb === 'Get' && resource === 'CIM_ComputerSystemPackage')
    return { xml: instance('CIM_ComputerSystemPackage', { PlatformGUID: amtGuid(uuid) }) };
  if (verb === 'Get' && resource === 'CIM_Chassis')
    return {
      xml: instance('CIM_Chassis', { SerialNumber: serial, Model: 'NUC-X', Manufacturer: 'Intel Corporation' }),
    };
  if (verb === 'Put' && resource === 'AMT_BootSettingData') {
    state.bootSettings = { ...(body['AMT_BootSettingData'] as Record<string, unknown>) };
    return { xml: instance('AMT_BootSettingData', state.bootSettings) };
  }
  if (verb === 'Enumerate')
    return {
      xml: `<g:EnumerateResponse><g:EnumerationContext>${resource}</g:EnumerationContext></g:EnumerateResponse>`,
    };
  if (verb === 'Pull') {
    const ctx = String((body['Pull'] as { EnumerationContext?: unknown })?.EnumerationContext);
    const items =
      ctx === 'CIM_ServiceAvailableToElement'
        ? instance('CIM_AssociatedPowerManagementService', {
            PowerState: state.power,
            AvailableRequestedPowerStates: 2,
          })
        : ctx === 'AMT_EthernetPortSettings'
          ? instance('AMT_EthernetPortSettings', {
              InstanceID: 'Intel(r) AMT Ethernet Port Settings 0',
              MACAddress: '00-1b-21-3c-4d-5e',
            }) +
            instance('AMT_EthernetPortSettings', {
              InstanceID: 'Intel(r) AMT Ethernet Port Settings 1',
              MACAddress: '00-1B-21-3C-4D-5F',
            })
          : '';
    return { xml: `<g:PullResponse><g:Items>${items}</g:Items><g:EndOfSequence></g:EndOfSequence></g:PullResponse>` };
  }
  if (verb === 'RequestPowerStateChange') {
    const wanted = Number((body['RequestPowerStateChange_INPUT'] as { PowerState?: unknown })?.PowerState);
    state.requests.push(wanted);
    if (wanted === 12 && state.refuseGraceful !== undefined)
      return { xml: output('CIM_PowerManagementService', verb, state.refuseGraceful) };
    if (wanted === 2 || wanted === 10) state.power = 2;
    else if (wanted === 8 || wanted === 12) state.power = 8;
    else return { xml: output('CIM_PowerManagementService', verb, 2) };
    return { xml: output('CIM_PowerManagementService', verb, 0) };
  }
  if (verb === 'ChangeBootOrder') {
    const source = (
      body['ChangeBootOrder_INPUT'] as { Source?: { ReferenceParameters?: { SelectorSet?: { Selector?: unknown } } } }
    )?.Source;
    const selected = source?.ReferenceParameters?.SelectorSet?.Selector;
    if (selected === undefined) delete state.bootSource;
    else state.bootSource = String(selected);
    return { xml: output('CIM_BootConfigSetting', verb, 0) };
  }
  if (verb === 'SetBootConfigRole') return { xml: output('CIM_BootService', verb, 0) };
  return {
    fault: true,
    xml: `<a:Fault><a:Code><a:Value>a:Sender</a:Value></a:Code><a:Reason><a:Text>The action ${action} is not supported by the service.</a:Text></a:Reason></a:Fault>`,
  };
}
