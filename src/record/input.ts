/**
 * What a caller of buildRecord knows about a release; anything left out (or empty) becomes `null` in
 * the record. Its own module so that the checks on written text can name it without importing the
 * builder.
 */
import type { ReleasePredicate, ResourceDescriptor, SourceFact, UpstreamField } from './types.ts';

type Text = string | null | undefined;

/** What the caller knows; anything left out (or empty) becomes `null` in the record. */
export interface RecordInput {
  subject: ResourceDescriptor[];
  identity?: {
    name?: Text;
    version?: Text;
    architectures?: readonly string[];
    platforms?: readonly string[];
  };
  manifest?: ReleasePredicate['manifest'];
  /** RFC 3339 strings (any offset; normalised to UTC) or Dates. */
  dates?: { built?: string | Date | null; published?: string | Date | null };
  source?: SourceFact | null;
  team?: { name?: Text; contact?: Text };
  help?: { bugTracker?: Text; docs?: Text };
  support?: { license?: Text; disclaimer?: Text; statement?: Text };
  /** Fields of the artifact's own metadata the stamp replaced, with their original values. */
  upstream?: readonly UpstreamField[];
}
