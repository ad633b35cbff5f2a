/**
 * The settings of a vSphere machine. settings: endpoint (vCenter or an ESX host: `https://host`, or
 * its `/sdk` URL), vm (the VM's name; else the VM whose BIOS UUID is identity.uuid), template (a VM
 * or template the VM is cloned from at attach when it does not exist yet), requestTimeoutSeconds
 * (30), taskTimeoutSeconds (600), bootOrder (the VM's boot devices in order, each 'disk' — the
 * attached clone — or 'network' — the first NIC; e.g. ["disk", "network"]; given at attach as
 * config.bootOptions.bootOrder; unset leaves the VM's own), and the power settings (consoleLog,
 * bootMarker, …: see common/power-settings). credentials: username, password.
 */
import { credential, SettingsReader } from '../common/settings-reader';
import type { MachineRef } from '../interface';
import type { VsphereConnection } from './client';
import { VSPHERE_SETTINGS, VsphereCredentialsMissingError } from './errors';

export function vsphereSettings(machine: MachineRef): SettingsReader {
  return new SettingsReader(machine, VSPHERE_SETTINGS);
}

export type BootDevice = 'disk' | 'network';

/** settings.bootOrder: a list (or comma-separated text) of 'disk' and 'network', each at most once; undefined when unset. */
export function bootOrder(machine: MachineRef): BootDevice[] | undefined {
  const raw = machine.settings.bootOrder;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const items = typeof raw === 'string' ? raw.split(',').map((v) => v.trim()) : raw;
  const fail = (problem: string) => vsphereSettings(machine).fail('settings.bootOrder', problem);
  if (!Array.isArray(items) || items.length === 0)
    throw fail(`must be a list of boot devices such as ["disk", "network"], not ${JSON.stringify(raw)}`);
  const seen = new Set<string>();
  for (const item of items) {
    if (item !== 'disk' && item !== 'network')
      throw fail(
        `names ${JSON.stringify(item)}: each boot device is 'disk' (the attached clone) or 'network' (the first NIC)`,
      );
    if (seen.has(item)) throw fail(`names ${JSON.stringify(item)} twice`);
    seen.add(item);
  }
  return items as BootDevice[];
}

/**
 * The /sdk URL of an endpoint given as `host[:port]`, `https://host` or a URL with a path; null when
 * it is none of these (or holds credentials).
 */
export function sdkUrl(endpoint: string): string | null {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint);
  if (hasScheme && !/^https?:\/\//i.test(endpoint)) return null;
  const text = hasScheme ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.username || url.password || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null;
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/sdk';
  return url.toString();
}

export function vsphereConnection(machine: MachineRef): VsphereConnection {
  const s = vsphereSettings(machine);
  const endpoint = s.string('endpoint');
  const url = sdkUrl(endpoint);
  if (!url)
    throw s.fail(
      'settings.endpoint',
      `is not an https:// or http:// URL without credentials (${JSON.stringify(endpoint)})`,
    );
  const username = credential(machine, 'username');
  const password = credential(machine, 'password');
  if (!username || !password) {
    throw new VsphereCredentialsMissingError(
      machine.id,
      [!username && 'credentials.username', !password && 'credentials.password'].filter((k): k is string => !!k),
    );
  }
  return {
    url,
    username,
    password,
    requestTimeoutMs: s.seconds('requestTimeoutSeconds', 30, 600),
    taskTimeoutMs: s.seconds('taskTimeoutSeconds', 600),
  };
}
