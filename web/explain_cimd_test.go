package web_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/policy"
)

// cimdClient is a metadata document client that the test configuration
// maps at the Issue Tracker.
const cimdClient = "https://client.example/cimd.json"

// startWithCIMDClient serves the console's test configuration with a
// metadata document client mapped at the Issue Tracker.
func startWithCIMDClient(t *testing.T) *product {
	t.Helper()
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(data), "      mcp-client: mcp-client-at-tracker\n",
		"      mcp-client: mcp-client-at-tracker\n      "+cimdClient+": cimd-at-tracker\n", 1)
	if yaml == string(data) {
		t.Fatal("testdata/console.yaml no longer maps mcp-client at the tracker as this test expects")
	}
	store, err := policy.NewStore([]byte(yaml), "console-cimd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, store)
}

// TestExplain_OffersMetadataDocumentClients: the Explain page's client
// list has the metadata document clients the configuration names (their
// client_id is a URL, defined nowhere else), and a client_id given in the
// address stays selected.
func TestExplain_OffersMetadataDocumentClients(t *testing.T) {
	p := startWithCIMDClient(t)
	b := p.browser(t)
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	_, body := b.get("/admin/explain")
	if !strings.Contains(body, `<option dir="auto">`+cimdClient+`</option>`) {
		t.Errorf("the Explain page does not offer %s:\n%s", cimdClient, body)
	}
	other := "https://other.example/c.json"
	_, body = b.get("/admin/explain?user=alice&server=tracker&client=" + other)
	if !strings.Contains(body, `<option dir="auto" selected>`+other+`</option>`) || !strings.Contains(body, `id="decision"`) {
		t.Errorf("a client_id URL in the address is not kept selected:\n%s", body)
	}
}

// TestBrowser_ExplainAMetadataDocumentClient: in a real browser, the
// Explain page explains a metadata document client's exchange.
func TestBrowser_ExplainAMetadataDocumentClient(t *testing.T) {
	p := startWithCIMDClient(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "explaining a metadata document client",
		chromedp.Navigate(p.URL+"/admin/explain"),
		chromedp.SetValue(chromedp.CSS(`select[name="user"]`), "alice"),
		chromedp.SetValue(chromedp.CSS(`select[name="client"]`), cimdClient),
		chromedp.SetValue(chromedp.CSS(`select[name="server"]`), "tracker"),
		clickTo(`form.explain button[type="submit"]`, `#decision`),
	)
	if s := text(t, ctx, "#decision"); !strings.Contains(s, "Allowed") || !strings.Contains(s, "cimd-at-tracker") {
		t.Errorf("explain of %s:\n%s", cimdClient, s)
	}
}

// TestExplainAPI_MetadataDocumentClient: the admin API's explain takes a
// metadata document client's URL as client, as the token endpoint does
// (without fetching the document), and refuses one the cimd section does
// not allow, as the token endpoint would.
func TestExplainAPI_MetadataDocumentClient(t *testing.T) {
	p := startWithCIMDClient(t)
	explain := func(client string) string {
		q := url.Values{"user": {"alice"}, "client": {client}, "audience": {"https://as.tracker.example"}}
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/admin/api/explain?"+q.Encode(), nil)
		req.SetBasicAuth("alice", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := explain(cimdClient); !strings.Contains(body, `"allowed": true`) || !strings.Contains(body, "cimd-at-tracker") {
		t.Errorf("explain %s = %s, want allowed as cimd-at-tracker", cimdClient, body)
	}
	if body := explain("http://client.example/cimd.json"); !strings.Contains(body, `"error": "invalid_client"`) {
		t.Errorf("explain of a URL cimd.allow does not match = %s, want invalid_client", body)
	}
}

// TestExplain_KeepsWhatItExplains: a user or server that the address names
// and the configuration does not stays selected in the form beside the
// refusal about it, instead of a blank field (which the form's required
// fields then refuse to send again).
func TestExplain_KeepsWhatItExplains(t *testing.T) {
	_, b := signedIn(t)
	_, page := b.get("/admin/explain?user=nobody&client=mcp-client&server=tracker")
	if !strings.Contains(page, `id="decision"`) || !strings.Contains(page, `<option dir="auto" selected>nobody</option>`) {
		t.Errorf("the unknown user is not the form's:\n%s", page)
	}
	_, page = b.get("/admin/explain?user=alice&client=mcp-client&server=nosuch")
	if !strings.Contains(page, `id="decision"`) || !strings.Contains(page, `<option dir="auto" value="nosuch" selected>`) {
		t.Errorf("the unknown server is not the form's:\n%s", page)
	}
}
