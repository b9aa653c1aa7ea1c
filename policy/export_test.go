package policy

// FieldBound is fieldBound, for the tests of package policy_test.
var FieldBound = fieldBound

// AfterDiskCheck has every edit call f right after its last look at the
// file before replacing it, until restore.
func AfterDiskCheck(f func()) (restore func()) {
	old := afterDiskCheck
	afterDiskCheck = f
	return func() { afterDiskCheck = old }
}
