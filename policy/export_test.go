package policy

// FieldBound is fieldBound, for the tests of package policy_test.
var FieldBound = fieldBound
