package admin

import "context"

// WatchBcrypt makes SCIM wait for its place to run bcrypt with place and
// hash passwords with hash, until restore.
func WatchBcrypt(place func(context.Context) (func(), error), hash func([]byte, int) ([]byte, error)) (restore func()) {
	oldPlace, oldHash := bcryptPlace, generateHash
	bcryptPlace, generateHash = place, hash
	return func() { bcryptPlace, generateHash = oldPlace, oldHash }
}
