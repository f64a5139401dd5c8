/**
 * Whether a reference names an image in a registry (`docker://…`), without loading the registry
 * client: commands on local paths never need it.
 */
import { DOCKER_TRANSPORT } from '../registry/reference.ts';

export function isRegistryReference(ref: string): boolean {
  return ref.startsWith(DOCKER_TRANSPORT);
}
