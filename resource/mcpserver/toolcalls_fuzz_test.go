package mcpserver

import (
	"bytes"
	"encoding/json"
	"testing"

	sdkjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// sdkToolNames returns the names of the tools the SDK would call for body,
// read as its streamable HTTP handler reads a POST: the batch split of
// mcp.readBatch, each message by jsonrpc.DecodeMessage, and the params of
// tools/call into a struct by the same decoder the SDK uses (segmentio,
// keys matched exactly). ok is false when the SDK refuses the body.
func sdkToolNames(body []byte) (names []string, ok bool) {
	unmarshal := func(data []byte, v any) error {
		dec := sdkjson.NewDecoder(bytes.NewReader(data))
		dec.DontMatchCaseInsensitiveStructFields()
		return dec.Decode(v)
	}
	var msgs []json.RawMessage
	if err := unmarshal(body, &msgs); err != nil {
		msgs = []json.RawMessage{body}
	}
	for _, raw := range msgs {
		msg, err := jsonrpc.DecodeMessage(raw)
		if err != nil {
			return nil, false
		}
		req, isReq := msg.(*jsonrpc.Request)
		if !isReq || req.Method != "tools/call" {
			continue
		}
		var params struct {
			Name string `json:"name"`
		}
		if req.Params != nil && unmarshal(req.Params, &params) != nil {
			continue
		}
		names = append(names, params.Name)
	}
	return names, true
}

// FuzzToolCalls: whatever body a client posts, every tool the SDK would
// call is one the HTTP-level scope check saw, under the same name; else a
// call the token's scopes do not cover reaches the tool instead of the 403
// with the step-up challenge.
func FuzzToolCalls(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue","arguments":{"title":"x"}}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue"}},{"jsonrpc":"2.0","method":"notifications/initialized"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue","Name":"whoami"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"n\u0061me":"create_issue"}} trailing`,
		`{"jsonrpc":"2.0","id":"a","method":"tools/call","Method":"tools/list","params":{"name":"x","name":"y"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue","name":null}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","method":null,"params":{"name":"create_issue"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_issue"},"params":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, ok := sdkToolNames(body)
		if !ok {
			return
		}
		seen := map[string]bool{}
		for _, c := range toolCalls(body) {
			seen[c.Params.Name] = true
		}
		for _, name := range want {
			// No tool has the empty name: the SDK answers "unknown tool".
			if name != "" && !seen[name] {
				t.Fatalf("the SDK calls tool %q, the scope check saw %v in %q", name, seen, body)
			}
		}
	})
}
