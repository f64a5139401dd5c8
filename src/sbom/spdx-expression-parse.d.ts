// spdx-expression-parse ships no types: the subset waybill uses (parse or throw).
declare module 'spdx-expression-parse' {
  interface LicenseInfo {
    license: string;
    plus?: true;
    exception?: string;
  }
  interface ConjunctionInfo {
    conjunction: 'and' | 'or';
    left: LicenseInfo | ConjunctionInfo;
    right: LicenseInfo | ConjunctionInfo;
  }
  function parse(expression: string): LicenseInfo | ConjunctionInfo;
  export default parse;
}
