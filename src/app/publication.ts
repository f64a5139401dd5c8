/**
 * The publication statement stored with an artifact (publish/publication.ts): where `check` and
 * `inspect` find the publish date no artifact format has a field for. Read from the same places as
 * the record — the registry's referrers (an image, or a file published as an OCI artifact), a
 * layout's attachments, or the sidecar `NAME.publication.json` in a release directory — newest
 * publication first. A statement about another digest, or one that is not a valid publication
 * statement, is passed over: it says nothing about this artifact.
 */
import { join } from 'node:path';
import { isWaybillError } from '../errors.ts';
import {
  findAttachments,
  findAttachmentsInOciArchive,
  readAttachment,
  readAttachmentFromOciArchive,
} from '../oci/attach.ts';
import type { PublicationFact } from '../policy/types.ts';
import {
  MAX_PUBLICATION_BYTES,
  PUBLICATION_ARTIFACT_TYPE,
  PUBLICATION_SIDECAR_SUFFIX,
  type PublicationStatement,
  parsePublication,
  publicationIsAbout,
} from '../publish/publication.ts';
import { sidecarHome } from '../record/sidecar.ts';
import { findRegistryAttachments, readRegistryAttachmentPayload } from '../registry/attachments.ts';
import type { Artifact } from '../sources/types.ts';
import { readRegularFileIfPresent } from '../util/regular-file.ts';
import { registrySubject } from './attachments.ts';

export interface LoadedPublication {
  statement: PublicationStatement;
  /** Where it was read: a referrer, a layout attachment or a sidecar path. */
  location: string;
}

/** The stored payloads of publication statements, each with where it came from. */
async function candidates(artifact: Artifact): Promise<Array<{ bytes: Buffer; location: string }>> {
  const repository = artifact.registry?.repository;
  if (repository) {
    const found = await findRegistryAttachments(
      repository,
      registrySubject(artifact),
      PUBLICATION_ARTIFACT_TYPE,
    );
    const out = [];
    for (const attachment of found)
      out.push({
        bytes: await readRegistryAttachmentPayload(repository, attachment),
        location: `referrer ${attachment.descriptor.digest} in ${repository.input}`,
      });
    return out;
  }
  if (artifact.kind === 'oci' || artifact.kind === 'oci-archive') {
    const archive = artifact.kind === 'oci-archive';
    const found = archive
      ? await findAttachmentsInOciArchive(artifact.path, artifact.digest, PUBLICATION_ARTIFACT_TYPE)
      : await findAttachments(artifact.path, artifact.digest, PUBLICATION_ARTIFACT_TYPE);
    const out = [];
    for (const attachment of found)
      out.push({
        bytes: archive
          ? await readAttachmentFromOciArchive(artifact.path, attachment)
          : await readAttachment(artifact.path, attachment),
        location: `${artifact.ref}@${attachment.descriptor.digest} (attached)`,
      });
    return out;
  }
  const release = artifact.release;
  if (release) {
    // Listed in the release's SHA256SUMS and checked against it when read.
    const name = `${release.location.file}${PUBLICATION_SIDECAR_SUFFIX}`;
    const bytes = release.sidecars.get(name)?.bytes ?? (await release.readFile(name, MAX_PUBLICATION_BYTES));
    return bytes ? [{ bytes, location: release.locate(name) }] : [];
  }
  if (artifact.kind !== 'file' && artifact.kind !== 'dir') return [];
  const [dir, name] = sidecarHome(artifact.path, PUBLICATION_SIDECAR_SUFFIX);
  const path = join(dir, name);
  const bytes = await readRegularFileIfPresent(path, { maxBytes: MAX_PUBLICATION_BYTES, code: 'MALFORMED' });
  return bytes ? [{ bytes, location: path }] : [];
}

/** The newest valid publication statement about this artifact, or undefined. */
export async function loadPublication(artifact: Artifact): Promise<LoadedPublication | undefined> {
  let newest: LoadedPublication | undefined;
  for (const { bytes, location } of await candidates(artifact)) {
    let statement: PublicationStatement;
    try {
      statement = parsePublication(bytes, location);
    } catch (e) {
      if (isWaybillError(e)) continue;
      throw e;
    }
    if (!publicationIsAbout(statement, artifact.digest)) continue;
    if (!newest || statement.predicate.published > newest.statement.predicate.published)
      newest = { statement, location };
  }
  return newest;
}

/** What `check` needs of it. */
export function publicationFact(loaded: LoadedPublication | undefined): PublicationFact | undefined {
  if (!loaded) return undefined;
  const { published, target } = loaded.statement.predicate;
  return { published, target, location: loaded.location };
}
