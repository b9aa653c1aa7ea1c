package audit_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

func TestSubscribe_ReceivesEventsInAppendOrder(t *testing.T) {
	l := openLog(t, audit.Options{Path: tempPath(t)})
	events, cancel := l.Subscribe(10)
	defer cancel()
	var want []string
	for i := range 5 {
		want = append(want, mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: fmt.Sprint(i)}).ID)
	}
	var got []string
	for range want {
		select {
		case e := <-events:
			got = append(got, e.ID)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %v, then nothing", got)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSubscribe_SlowSubscriberMissesEventsInsteadOfBlockingAppend(t *testing.T) {
	l := openLog(t, audit.Options{})
	events, cancel := l.Subscribe(2)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Append blocked on a subscriber that does not read")
	}
	if len(events) != 2 {
		t.Errorf("%d events buffered, want 2", len(events))
	}
}

func TestSubscribe_CancelClosesTheChannelAndIsIdempotent(t *testing.T) {
	l := openLog(t, audit.Options{})
	events, cancel := l.Subscribe(1)
	cancel()
	cancel()
	if _, ok := <-events; ok {
		t.Error("channel open after cancel")
	}
	mustAppend(t, l, audit.Event{Type: audit.TypeLogin}) // must not send on the closed channel
}

func TestSubscribe_CloseEndsSubscriptions(t *testing.T) {
	l, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := l.Subscribe(1)
	l.Close()
	if _, ok := <-events; ok {
		t.Error("channel open after Close")
	}
	cancel()
	late, cancel := l.Subscribe(1)
	defer cancel()
	if _, ok := <-late; ok {
		t.Error("Subscribe after Close gave an open channel")
	}
}

// TestSubscribeExcept_SkipsTheGivenTypesOnly: a subscriber that does not
// want token exchanges gets every other event, in order, while another
// subscriber of the same log still gets all of them; a tenant's view
// skips the same way.
func TestSubscribeExcept_SkipsTheGivenTypesOnly(t *testing.T) {
	l := openLog(t, audit.Options{})
	some, cancelSome := l.SubscribeExcept(10, audit.TypeTokenExchange)
	defer cancelSome()
	all, cancelAll := l.Subscribe(10)
	defer cancelAll()
	acme, cancelAcme := l.Tenant("acme").SubscribeExcept(10, audit.TypeTokenExchange)
	defer cancelAcme()
	types := []string{audit.TypeLogin, audit.TypeTokenExchange, audit.TypeToken, audit.TypeTokenExchange, audit.TypeLogout}
	for _, typ := range types {
		mustAppend(t, l.Tenant("acme"), audit.Event{Type: typ, Outcome: audit.Allowed})
	}
	receive := func(ch <-chan *audit.Event, n int) []string {
		var got []string
		for range n {
			select {
			case e := <-ch:
				got = append(got, e.Type)
			case <-time.After(5 * time.Second):
				t.Fatalf("got %v, then nothing", got)
			}
		}
		return got
	}
	want := []string{audit.TypeLogin, audit.TypeToken, audit.TypeLogout}
	if got := receive(some, 3); !slices.Equal(got, want) {
		t.Errorf("SubscribeExcept got %v, want %v", got, want)
	}
	if got := receive(all, 5); !slices.Equal(got, types) {
		t.Errorf("Subscribe got %v, want %v", got, types)
	}
	if got := receive(acme, 3); !slices.Equal(got, want) {
		t.Errorf("a tenant's SubscribeExcept got %v, want %v", got, want)
	}
	select {
	case e := <-some:
		t.Errorf("SubscribeExcept also got %s", e.Type)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestSubscribeSkipping_AnOutcomeOnly: a subscriber that skips allowed token
// exchanges (serve's log at info) still gets the refused ones and every other
// event, in order, in a tenant's view too.
func TestSubscribeSkipping_AnOutcomeOnly(t *testing.T) {
	l := openLog(t, audit.Options{})
	skip := audit.Skip{Type: audit.TypeTokenExchange, Outcome: audit.Allowed}
	some, cancelSome := l.SubscribeSkipping(10, skip)
	defer cancelSome()
	acme, cancelAcme := l.Tenant("acme").SubscribeSkipping(10, skip)
	defer cancelAcme()
	events := []audit.Event{
		{Type: audit.TypeTokenExchange, Outcome: audit.Allowed},
		{Type: audit.TypeTokenExchange, Outcome: audit.Denied},
		{Type: audit.TypeLogin, Outcome: audit.Allowed},
		{Type: audit.TypeTokenExchange, Outcome: audit.Error},
		{Type: audit.TypeTokenExchange, Outcome: audit.Allowed},
	}
	for _, e := range events {
		mustAppend(t, l.Tenant("acme"), e)
	}
	want := []string{"token_exchange denied", "login allowed", "token_exchange error"}
	for name, ch := range map[string]<-chan *audit.Event{"shared": some, "tenant": acme} {
		var got []string
		for range want {
			select {
			case e := <-ch:
				got = append(got, e.Type+" "+e.Outcome)
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: got %v, then nothing", name, got)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
		select {
		case e := <-ch:
			t.Errorf("%s: also got %s %s", name, e.Type, e.Outcome)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
