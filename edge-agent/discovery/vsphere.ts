/**
 * A `vsphere` seed: one vCenter or ESX host (`host[:port]` for https, or its URL), asked with the
 * machine driver's vim25 client in one session (Login, then Logout). Reads every VirtualMachine of
 * the inventory through a container view (templates left out: they are not machines): name, BIOS
 * UUID (config.uuid), instance UUID, CPUs, memory, the MACs of its virtual NICs, its disk files and
 * runtime.powerState (suspended holds its disks, so it counts as on).
 *
 * The hypervisor is vCenter's (or the host's) instance UUID, else the endpoint's URL.
 */
import type { MachineObservation } from '../../statemachines/discovery';
import { MAX_OBSERVED } from '../../statemachines/discovery';
import { VimClient } from '../drivers/machine/vsphere/client';
import { sdkUrl } from '../drivers/machine/vsphere/settings';
import { diskFiles, VM_PROPERTIES, type VmFacts, vmFacts } from '../drivers/machine/vsphere/vm';
import { SeedAddressError } from './errors';
import type { Observed, SeedAsk } from './seed';

const REQUEST_SECONDS = 30;

export async function askVsphere(ask: SeedAsk): Promise<Observed> {
  const url = sdkUrl(ask.seed.address.trim());
  if (!url)
    throw new SeedAddressError('vsphere', ask.seed.address, 'host[:port] or an http(s):// URL without credentials');
  const username = await ask.secret(['user', 'username']);
  const password = await ask.secret(['password']);
  const ms = (ask.seed.timeoutSeconds ?? REQUEST_SECONDS) * 1000;
  const client = await VimClient.login(
    { url, username, password, requestTimeoutMs: ms, taskTimeoutMs: ms },
    `seed ${ask.index}`,
  );
  try {
    const vms = (await client.inventory('VirtualMachine', VM_PROPERTIES)).map(vmFacts).filter((vm) => !vm.template);
    if (ask.signal.aborted) throw ask.signal.reason;
    const hypervisor = client.content.instanceUuid ?? url;
    return {
      machines: vms.slice(0, MAX_OBSERVED).map((vm) => observation(ask.index, url, hypervisor, vm)),
      volumes: [],
      seen: vms.length,
    };
  } finally {
    await client.logout();
  }
}

function observation(seed: number, endpoint: string, hypervisor: string, vm: VmFacts): MachineObservation {
  return {
    seed,
    kind: 'vsphere',
    ...(vm.name ? { name: vm.name } : {}),
    identifiers: {
      ...(vm.uuid ? { uuid: vm.uuid } : {}),
      ...(vm.instanceUuid ? { domainUuid: vm.instanceUuid } : {}),
      macs: [...new Set(vm.macs)],
      hypervisor,
    },
    facts: {
      ...(vm.cpus !== undefined ? { cpus: vm.cpus } : {}),
      ...(vm.memoryMiB !== undefined ? { memoryMiB: vm.memoryMiB } : {}),
      power: vm.power === 'poweredOff' ? 'off' : 'on',
      disks: diskFiles(vm),
    },
    settings: { endpoint, vm: vm.name },
  };
}
