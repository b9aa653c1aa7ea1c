package idp

import (
	"context"
	"net/http"

	"github.com/xaa-idp/xaa-idp/internal/clientaddr"
	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// tooManyFromSource is the description of the 503 an address gets when it
// holds its share of the pending logins (pendingShare).
const tooManyFromSource = "this client address has too many sign-ins in progress (a share of security.max_pending_logins); finish or abandon some, or retry later"

// pendingShare is how many pending logins one client address may hold
// once half of security.max_pending_logins are taken: 1% of them, at
// least 10 (replay.Share, the share of every bounded store). Below half, any address may take a slot, so that a single
// address (a load test, every client behind a reverse proxy) still has
// half the store; beyond it, a flood from one address is refused alone
// and the other half is left to the others, a flood needing some 50
// addresses at the default to fill the store.
func pendingShare(maxPending int) int {
	return replay.Share(maxPending)
}

// sourceOf names the client address of r as the pending-login share
// counts it (clientaddr.Key): the TCP peer's IP, or behind a proxy that
// serve --trusted-proxies names, the address it forwarded (X-Forwarded-For
// is otherwise anyone's to write); an IPv6 address by its /64. "" (no
// share) if RemoteAddr is not an address, which a real listener never
// gives.
func sourceOf(r *http.Request) string {
	return clientaddr.Key(r.RemoteAddr)
}

func withSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey, source)
}

func sourceFromContext(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey).(string)
	return s
}
