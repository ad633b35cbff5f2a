/**
 * A small Redfish service for tests: ServiceRoot, a Systems collection, systems with PowerState,
 * inventory when given (Model, Manufacturer, ProcessorSummary, MemorySummary), Boot override and the
 * ComputerSystem.Reset action, EthernetInterfaces, and HTTP Basic auth on everything but the service
 * root. Power changes pass through PoweringOn/PoweringOff like a BMC's.
 */
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimSystemOptions {
  id: string;
  uuid: string;
  serial: string;
  /** As the BMC writes them (any case, colons or dashes). */
  macs: string[];
  /** The OS ignores GracefulShutdown (the driver must fall back to ForceOff). */
  ignoresGracefulShutdown?: boolean;
  bootTargets?: string[];
  /** Written to at each power on, as a serial console concentrator would. */
  consoleLog?: string;
  /** Inventory a BMC reports (Model, Manufacturer, ProcessorSummary, MemorySummary); left out when not given. */
  model?: string;
  manufacturer?: string;
  /** ProcessorSummary.LogicalProcessorCount. */
  cpus?: number;
  /** MemorySummary.TotalSystemMemoryGiB. */
  memoryGiB?: number;
}

export interface SimSystem extends SimSystemOptions {
  powerState: 'On' | 'Off' | 'PoweringOn' | 'PoweringOff';
  boot: { BootSourceOverrideTarget: string; BootSourceOverrideEnabled: string };
  /** The boot source of each power on: the override when one was set, else 'Default'. */
  bootedFrom: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
}

export interface RedfishSim {
  endpoint: string;
  username: string;
  password: string;
  systems: Map<string, SimSystem>;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const TRANSITION_MS = 200;

export async function startRedfishSim(opts: {
  username?: string;
  password?: string;
  systems: SimSystemOptions[];
}): Promise<RedfishSim> {
  const username = opts.username ?? 'admin';
  const password = opts.password ?? 'redfish-secret';
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const systems = new Map<string, SimSystem>(
    opts.systems.map((s) => [
      s.id,
      {
        ...s,
        powerState: 'Off',
        boot: { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled' },
        bootedFrom: [],
      },
    ]),
  );
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, TRANSITION_MS);
    timers.add(t);
  };

  const server = http.createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = text ? JSON.parse(text) : undefined;
    const path = (req.url ?? '/').replace(/\/$/, '');
    requests.push({
      method: req.method ?? '',
      path,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(body ? { body } : {}),
    });
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'OData-Version': '4.0', ...headers });
      res.end(json === undefined ? '' : JSON.stringify(json));
    };
    const fail = (status: number, message: string) =>
      send(status, {
        error: { code: 'Base.1.8.GeneralError', message, '@Message.ExtendedInfo': [{ Message: message }] },
      });

    if (req.method === 'GET' && path === '/redfish/v1') {
      return send(200, {
        '@odata.id': '/redfish/v1/',
        Id: 'RootService',
        RedfishVersion: '1.15.0',
        Systems: { '@odata.id': '/redfish/v1/Systems' },
      });
    }
    if (req.headers.authorization !== expected) {
      return send(
        401,
        { error: { code: 'Base.1.8.NoValidSession', message: 'authentication required' } },
        { 'WWW-Authenticate': 'Basic realm="Redfish"' },
      );
    }
    if (req.method === 'GET' && path === '/redfish/v1/Systems') {
      return send(200, {
        Members: [...systems.keys()].map((id) => ({ '@odata.id': `/redfish/v1/Systems/${id}` })),
        'Members@odata.count': systems.size,
      });
    }
    const m = /^\/redfish\/v1\/Systems\/([^/]+)(\/.*)?$/.exec(path);
    const sys = m ? systems.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !sys) return fail(404, `no resource at ${path}`);
    const base = `/redfish/v1/Systems/${sys.id}`;
    const rest = m[2] ?? '';

    if (req.method === 'GET' && rest === '')
      return send(200, systemJson(sys, base), { ETag: `W/"${sys.powerState}-${sys.boot.BootSourceOverrideTarget}"` });
    if (req.method === 'PATCH' && rest === '') {
      const boot = (body as { Boot?: Partial<SimSystem['boot']> } | undefined)?.Boot ?? {};
      if (
        boot.BootSourceOverrideTarget &&
        !(sys.bootTargets ?? DEFAULT_TARGETS).includes(boot.BootSourceOverrideTarget)
      ) {
        return fail(400, `BootSourceOverrideTarget ${boot.BootSourceOverrideTarget} is not supported`);
      }
      sys.boot = { ...sys.boot, ...boot };
      return send(204);
    }
    if (req.method === 'GET' && rest === '/EthernetInterfaces') {
      return send(200, { Members: sys.macs.map((_, i) => ({ '@odata.id': `${base}/EthernetInterfaces/nic${i}` })) });
    }
    const nic = /^\/EthernetInterfaces\/nic(\d+)$/.exec(rest);
    if (req.method === 'GET' && nic && sys.macs[Number(nic[1])])
      return send(200, { Id: `nic${nic[1]}`, MACAddress: sys.macs[Number(nic[1])] });
    if (req.method === 'POST' && rest === '/Actions/ComputerSystem.Reset')
      return reset(sys, (body as { ResetType?: string })?.ResetType, send, fail);
    return fail(404, `no resource at ${path}`);
  });

  function reset(
    sys: SimSystem,
    type: string | undefined,
    send: (s: number) => void,
    fail: (s: number, m: string) => void,
  ) {
    if (type === 'On') {
      if (sys.powerState !== 'Off') return fail(409, 'the system is already on');
      const once = sys.boot.BootSourceOverrideEnabled === 'Once';
      sys.bootedFrom.push(
        once || sys.boot.BootSourceOverrideEnabled === 'Continuous' ? sys.boot.BootSourceOverrideTarget : 'Default',
      );
      if (once) sys.boot = { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled' };
      sys.powerState = 'PoweringOn';
      later(() => {
        if (sys.powerState !== 'PoweringOn') return;
        sys.powerState = 'On';
        if (sys.consoleLog) void fs.appendFile(sys.consoleLog, 'Booting...\nENCOMPASS-BOOTED\n');
      });
      return send(204);
    }
    if (type === 'GracefulShutdown') {
      if (sys.powerState !== 'On') return fail(409, 'the system is not on');
      if (!sys.ignoresGracefulShutdown) {
        sys.powerState = 'PoweringOff';
        later(() => {
          if (sys.powerState === 'PoweringOff') sys.powerState = 'Off';
        });
      }
      return send(204);
    }
    if (type === 'ForceOff') {
      sys.powerState = 'Off';
      return send(204);
    }
    return fail(400, `ResetType ${String(type)} is not supported`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    username,
    password,
    systems,
    requests,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const DEFAULT_TARGETS = ['None', 'Pxe', 'Hdd', 'Cd', 'UefiTarget'];

function systemJson(sys: SimSystem, base: string) {
  return {
    '@odata.id': base,
    '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
    Id: sys.id,
    UUID: sys.uuid,
    SerialNumber: sys.serial,
    PowerState: sys.powerState,
    Boot: { ...sys.boot, 'BootSourceOverrideTarget@Redfish.AllowableValues': sys.bootTargets ?? DEFAULT_TARGETS },
    Actions: {
      '#ComputerSystem.Reset': {
        target: `${base}/Actions/ComputerSystem.Reset`,
        'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown'],
      },
    },
    EthernetInterfaces: { '@odata.id': `${base}/EthernetInterfaces` },
    ...(sys.model ? { Model: sys.model } : {}),
    ...(sys.manufacturer ? { Manufacturer: sys.manufacturer } : {}),
    ...(sys.cpus !== undefined ? { ProcessorSummary: { Count: 1, LogicalProcessorCount: sys.cpus } } : {}),
    ...(sys.memoryGiB !== undefined ? { MemorySummary: { TotalSystemMemoryGiB: sys.memoryGiB } } : {}),
  };
}
