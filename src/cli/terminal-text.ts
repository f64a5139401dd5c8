/**
 * Text from a tag, a config, a kit or an artifact is shown on a terminal only through `shown`: control
 * characters (C0, DEL, C1) become visible escapes, so a recipe line or a file name cannot move the
 * cursor, rewrite earlier lines or hide part of itself. (To be replaced by the shared terminal
 * escaper when it lands.)
 */
export function shown(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\t') return '\\t';
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
