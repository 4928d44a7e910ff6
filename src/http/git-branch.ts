/** `git check-ref-format --branch` rules, so a branch Delivr is told to use can exist. */
export function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255 || name === '@') return false
  // git refuses control characters in a ref name; that is the point of this check.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'))
}
