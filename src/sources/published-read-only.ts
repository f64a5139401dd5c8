/**
 * The refusals of commands that would change an artifact where it was published: a registry image or
 * a release-directory file is read in place, never rewritten. Kept apart from the readers so that the
 * commands on local files can say so without loading the registry or release clients.
 */
import { WaybillError } from '../errors.ts';

/** Registry images are read here; writing them is `publish`'s job, never a side effect. */
export function registryWriteError(ref: string): WaybillError {
  return new WaybillError(
    'UNSUPPORTED',
    ref,
    'an image in a registry is not changed in place; stamp a local copy (skopeo copy docker://… oci:DIR:TAG) and publish that',
  );
}

/** A published release is read, never changed in place: stamp a local copy, then publish that. */
export function releaseWriteError(ref: string): WaybillError {
  return new WaybillError(
    'UNSUPPORTED',
    ref,
    'a file in a release directory is not changed in place; stamp a local copy and publish it as a new version',
  );
}
