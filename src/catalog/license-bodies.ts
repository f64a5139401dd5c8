/**
 * License texts recognised by their own wording, for free-form copyright files that quote a license
 * without naming it (Debian's python3-jinja2 and python3-markupsafe quote the BSD clauses,
 * python3-yaml and libc-ares2 the MIT grant). Only the two families whose texts say unambiguously
 * which license they are:
 * - the MIT (Expat) grant with its one condition, the notice kept in all copies; a text that adds the
 *   X11 clause ("Except as contained in this notice, the name of …") is another license and is not
 *   named;
 * - the BSD redistribution clauses (with the Pallets projects' "of the software as well as documentation"), told apart by what follows the two "Redistributions …" clauses:
 *   nothing (BSD-2-Clause), the no-endorsement clause (BSD-3-Clause), that and the advertising clause
 *   (BSD-4-Clause). A body with an advertising clause but no endorsement one is not named.
 * Each body is read up to its disclaimer, so two licenses quoted in one file are told apart.
 */

/** Whitespace (line breaks, indentation, DEP-5's ` .` paragraph marks) as single spaces, lower case. */
function normalized(text: string): string {
  return text
    .replace(/\n[ \t]+\.[ \t]*(?=\n)/g, '\n')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

const MIT_GRANT =
  /permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files \(the .{0,2}software.{0,2}\),? to deal in the software without restriction/g;
const MIT_CONDITION =
  /the above copyright notice and this permission notice shall be included in all copies or substantial portions of the software/;
const X11_CLAUSE = /except as contained in this notice, the names? of/;
const MIT_DISCLAIMER = /the software is provided .{0,2}as is.{0,2},? without warranty of any kind/;

const BSD_GRANT =
  /redistribution and use in source and binary forms(?: of the software as well as documentation)?, with or without modification, are permitted provided that the following conditions are met/g;
const BSD_SOURCE = /redistributions of source code must retain the above copyright notice/;
const BSD_BINARY = /redistributions in binary form must reproduce the above copyright notice/;
const BSD_ENDORSE =
  /(?:may|must|shall) not be used to endorse or promote products derived from this software without specific prior written permission/;
const BSD_ADVERTISING = /all advertising materials mentioning features or use of this software must display/;
const BSD_DISCLAIMER = /this software is provided by/;

/** A body: from its grant to its disclaimer (or at most `max` characters when it has none). */
function body(text: string, start: number, disclaimer: RegExp, max: number): string {
  const rest = text.slice(start, start + max);
  const end = rest.search(disclaimer);
  return end >= 0 ? rest.slice(0, end) : rest;
}

function bsdId(clauses: string): string | undefined {
  if (!BSD_SOURCE.test(clauses) || !BSD_BINARY.test(clauses)) return undefined;
  const endorse = BSD_ENDORSE.test(clauses);
  const advertising = BSD_ADVERTISING.test(clauses);
  if (advertising) return endorse ? 'BSD-4-Clause' : undefined;
  return endorse ? 'BSD-3-Clause' : 'BSD-2-Clause';
}

/** SPDX ids of the license texts `text` quotes, in the order they first appear. */
export function licensesInBodies(text: string): string[] {
  const t = normalized(text);
  const found: Array<[number, string]> = [];
  for (const m of t.matchAll(MIT_GRANT)) {
    const clauses = body(t, m.index, MIT_DISCLAIMER, 1200);
    // The X11 clause follows the disclaimer.
    if (MIT_CONDITION.test(clauses) && !X11_CLAUSE.test(t.slice(m.index, m.index + 2500)))
      found.push([m.index, 'MIT']);
  }
  for (const m of t.matchAll(BSD_GRANT)) {
    const id = bsdId(body(t, m.index, BSD_DISCLAIMER, 2000));
    if (id) found.push([m.index, id]);
  }
  const out: string[] = [];
  for (const [, id] of found.sort((a, b) => a[0] - b[0])) if (!out.includes(id)) out.push(id);
  return out;
}
