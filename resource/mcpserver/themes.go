package mcpserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// The four demo themes of fixtures/demo.yaml plus a generic one. Each has a
// read tool and a write tool over deterministic per-user records.

// Issue is a tracker record.
type Issue struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   string `json:"status" jsonschema:"open, in_progress or done"`
	Priority string `json:"priority"`
	Assignee string `json:"assignee"`
}

type listIssuesIn struct {
	Status string `json:"status,omitempty" jsonschema:"only issues with this status: open, in_progress or done"`
}

type issuesOut struct {
	Issues []Issue `json:"issues"`
}

type createIssueIn struct {
	Title       string `json:"title" jsonschema:"the issue title"`
	Description string `json:"description,omitempty" jsonschema:"what is wrong"`
}

var issueTitles = []string{
	"Login page times out behind the VPN", "Export to CSV drops the last row",
	"Dark mode contrast on buttons", "Flaky test in the billing service",
	"Search ignores accented characters", "Webhook retries never give up",
	"Mobile layout breaks under 360px", "Audit log misses role changes",
	"Upgrade the TLS library", "Onboarding email has a broken link",
}

func trackerTheme(s *mcp.Server, ts toolScopes, read, write string) {
	data := newUserData("tracker", func(rng *rand.Rand, user string) []Issue {
		statuses := []string{"open", "in_progress", "done"}
		priorities := []string{"P1", "P2", "P3"}
		var issues []Issue
		for i, title := range pick(rng, issueTitles, 5) {
			issues = append(issues, Issue{
				ID:       fmt.Sprintf("TRK-%d", 100+rng.IntN(800)+i),
				Title:    title,
				Status:   statuses[rng.IntN(len(statuses))],
				Priority: priorities[rng.IntN(len(priorities))],
				Assignee: user,
			})
		}
		return issues
	})
	addTool(s, ts, read, &mcp.Tool{
		Name: "list_issues", Title: "List issues",
		Description: "Lists the issues assigned to you.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
	}, func(_ context.Context, at *authserver.AccessToken, in listIssuesIn) (issuesOut, string, error) {
		var out issuesOut
		err := data.update(at, func(items []Issue) ([]Issue, error) {
			for _, it := range items {
				if in.Status == "" || it.Status == in.Status {
					out.Issues = append(out.Issues, it)
				}
			}
			return items, nil
		})
		out.Issues = nonNil(out.Issues)
		return out, fmt.Sprintf("%d issues assigned to %s.", len(out.Issues), displayName(at)), err
	})
	if write == "" {
		return
	}
	addTool(s, ts, write, &mcp.Tool{
		Name: "create_issue", Title: "Create an issue",
		Description: "Creates an issue assigned to you.",
	}, func(_ context.Context, at *authserver.AccessToken, in createIssueIn) (Issue, string, error) {
		if strings.TrimSpace(in.Title) == "" {
			return Issue{}, "", fmt.Errorf("title is empty")
		}
		if err := checkText("title", in.Title); err != nil {
			return Issue{}, "", err
		}
		var created Issue
		err := data.update(at, func(items []Issue) ([]Issue, error) {
			if err := checkRoom(items, "issues"); err != nil {
				return nil, err
			}
			created = Issue{ID: fmt.Sprintf("TRK-%d", 1000+len(items)), Title: in.Title, Status: "open", Priority: "P3", Assignee: displayName(at)}
			return append(items, created), nil
		})
		return created, fmt.Sprintf("Created %s %q.", created.ID, created.Title), err
	})
}

// Page is a wiki record.
type Page struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Space     string `json:"space"`
	Excerpt   string `json:"excerpt"`
	Version   int    `json:"version"`
	UpdatedBy string `json:"updated_by"`
}

type searchPagesIn struct {
	Query string `json:"query,omitempty" jsonschema:"words to look for in titles and text; empty lists every page"`
}

type pagesOut struct {
	Pages []Page `json:"pages"`
}

type editPageIn struct {
	PageID  string `json:"page_id" jsonschema:"the id of the page, from search_pages"`
	Content string `json:"content" jsonschema:"the new text of the page"`
}

var pageSeeds = []struct{ title, space, excerpt string }{
	{"Onboarding checklist", "HR", "Everything a new hire needs in their first week."},
	{"Incident response runbook", "ENG", "Who to page, where to write, how to close an incident."},
	{"Brand guidelines", "DESIGN", "Logo clear space, colours and typography."},
	{"Quarterly sales playbook", "SALES", "Discovery questions and pricing guardrails."},
	{"Expense policy", "FIN", "What you can expense and how fast it is paid."},
	{"Architecture overview", "ENG", "Services, queues and the data they own."},
	{"Support escalation matrix", "SUPPORT", "When a ticket goes to tier 2 and to engineering."},
	{"Office Wi-Fi and printers", "IT", "Network names and the printer that works."},
}

func wikiTheme(s *mcp.Server, ts toolScopes, read, write string) {
	data := newUserData("wiki", func(rng *rand.Rand, user string) []Page {
		var pages []Page
		for i, p := range pick(rng, pageSeeds, 6) {
			pages = append(pages, Page{
				ID: fmt.Sprintf("%s-%d", p.space, 10+i*7+rng.IntN(7)), Title: p.title, Space: p.space,
				Excerpt: p.excerpt, Version: 1 + rng.IntN(9), UpdatedBy: "wiki-bot",
			})
		}
		return pages
	})
	addTool(s, ts, read, &mcp.Tool{
		Name: "search_pages", Title: "Search pages",
		Description: "Searches the wiki pages you can see.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
	}, func(_ context.Context, at *authserver.AccessToken, in searchPagesIn) (pagesOut, string, error) {
		var out pagesOut
		err := data.update(at, func(items []Page) ([]Page, error) {
			for _, p := range items {
				if containsFold(p.Title, in.Query) || containsFold(p.Excerpt, in.Query) {
					out.Pages = append(out.Pages, p)
				}
			}
			return items, nil
		})
		out.Pages = nonNil(out.Pages)
		return out, fmt.Sprintf("%d pages match %q.", len(out.Pages), in.Query), err
	})
	if write == "" {
		return
	}
	addTool(s, ts, write, &mcp.Tool{
		Name: "edit_page", Title: "Edit a page",
		Description: "Replaces the text of a wiki page.",
	}, func(_ context.Context, at *authserver.AccessToken, in editPageIn) (Page, string, error) {
		var edited Page
		err := data.update(at, func(items []Page) ([]Page, error) {
			for i := range items {
				if items[i].ID == in.PageID {
					items[i].Excerpt = truncate(in.Content, 120)
					items[i].Version++
					items[i].UpdatedBy = displayName(at)
					edited = items[i]
					return items, nil
				}
			}
			return nil, fmt.Errorf("no page %q; search_pages lists the ids", in.PageID)
		})
		return edited, fmt.Sprintf("Saved %s %q as version %d.", edited.ID, edited.Title, edited.Version), err
	})
}

// DesignFile is a design-studio record.
type DesignFile struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Project  string `json:"project"`
	Owner    string `json:"owner"`
	Comments int    `json:"comments"`
}

type listFilesIn struct {
	Project string `json:"project,omitempty" jsonschema:"only files of this project"`
}

type filesOut struct {
	Files []DesignFile `json:"files"`
}

type addCommentIn struct {
	FileID string `json:"file_id" jsonschema:"the id of the file, from list_files"`
	Text   string `json:"text" jsonschema:"the comment"`
}

// Comment is the result of add_comment.
type Comment struct {
	ID     string `json:"id"`
	FileID string `json:"file_id"`
	Author string `json:"author"`
	Text   string `json:"text"`
}

var designSeeds = []struct{ name, project string }{
	{"Checkout flow v3", "Payments"}, {"Mobile nav exploration", "App"},
	{"Icon set 2026", "Brand"}, {"Settings page redesign", "App"},
	{"Marketing site hero", "Brand"}, {"Invoice PDF template", "Payments"},
	{"Empty states", "App"},
}

func designTheme(s *mcp.Server, ts toolScopes, read, write string) {
	data := newUserData("design", func(rng *rand.Rand, user string) []DesignFile {
		var files []DesignFile
		for i, f := range pick(rng, designSeeds, 4) {
			files = append(files, DesignFile{
				ID: fmt.Sprintf("fig-%d%d", 100+rng.IntN(900), i), Name: f.name, Project: f.project,
				Owner: user, Comments: rng.IntN(12),
			})
		}
		return files
	})
	addTool(s, ts, read, &mcp.Tool{
		Name: "list_files", Title: "List design files",
		Description: "Lists your design files.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
	}, func(_ context.Context, at *authserver.AccessToken, in listFilesIn) (filesOut, string, error) {
		var out filesOut
		err := data.update(at, func(items []DesignFile) ([]DesignFile, error) {
			for _, f := range items {
				if in.Project == "" || strings.EqualFold(f.Project, in.Project) {
					out.Files = append(out.Files, f)
				}
			}
			return items, nil
		})
		out.Files = nonNil(out.Files)
		return out, fmt.Sprintf("%d design files.", len(out.Files)), err
	})
	if write == "" {
		return
	}
	addTool(s, ts, write, &mcp.Tool{
		Name: "add_comment", Title: "Comment on a design file",
		Description: "Adds a comment to a design file.",
	}, func(_ context.Context, at *authserver.AccessToken, in addCommentIn) (Comment, string, error) {
		var c Comment
		err := data.update(at, func(items []DesignFile) ([]DesignFile, error) {
			for i := range items {
				if items[i].ID == in.FileID {
					items[i].Comments++
					c = Comment{ID: fmt.Sprintf("%s-c%d", in.FileID, items[i].Comments), FileID: in.FileID, Author: displayName(at), Text: in.Text}
					return items, nil
				}
			}
			return nil, fmt.Errorf("no design file %q; list_files lists the ids", in.FileID)
		})
		return c, fmt.Sprintf("Commented on %s.", in.FileID), err
	})
}

// Account is a CRM record.
type Account struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Stage string `json:"stage" jsonschema:"prospect, trial, customer or churned"`
	ARR   int    `json:"arr_usd"`
	Owner string `json:"owner"`
	Note  string `json:"note,omitempty"`
}

type listAccountsIn struct {
	Stage string `json:"stage,omitempty" jsonschema:"only accounts in this stage"`
}

type accountsOut struct {
	Accounts []Account `json:"accounts"`
}

type updateAccountIn struct {
	AccountID string `json:"account_id" jsonschema:"the id of the account, from list_accounts"`
	Stage     string `json:"stage,omitempty" jsonschema:"the new stage: prospect, trial, customer or churned"`
	Note      string `json:"note,omitempty" jsonschema:"a note to keep on the account"`
}

var accountNames = []string{
	"Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Foods",
	"Hooli", "Soylent Labs", "Vandelay Imports", "Tyrell Robotics",
}

var accountStages = []string{"prospect", "trial", "customer", "churned"}

func crmTheme(s *mcp.Server, ts toolScopes, read, write string) {
	data := newUserData("crm", func(rng *rand.Rand, user string) []Account {
		var accounts []Account
		for i, name := range pick(rng, accountNames, 5) {
			accounts = append(accounts, Account{
				ID: fmt.Sprintf("ACC-%03d", 1+i+rng.IntN(100)*10), Name: name,
				Stage: accountStages[rng.IntN(len(accountStages))],
				ARR:   (5 + rng.IntN(200)) * 1000, Owner: user,
			})
		}
		return accounts
	})
	addTool(s, ts, read, &mcp.Tool{
		Name: "list_accounts", Title: "List accounts",
		Description: "Lists the customer accounts you own.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
	}, func(_ context.Context, at *authserver.AccessToken, in listAccountsIn) (accountsOut, string, error) {
		var out accountsOut
		err := data.update(at, func(items []Account) ([]Account, error) {
			for _, a := range items {
				if in.Stage == "" || a.Stage == in.Stage {
					out.Accounts = append(out.Accounts, a)
				}
			}
			return items, nil
		})
		out.Accounts = nonNil(out.Accounts)
		return out, fmt.Sprintf("%d accounts owned by %s.", len(out.Accounts), displayName(at)), err
	})
	if write == "" {
		return
	}
	addTool(s, ts, write, &mcp.Tool{
		Name: "update_account", Title: "Update an account",
		Description: "Changes the stage of an account or adds a note.",
	}, func(_ context.Context, at *authserver.AccessToken, in updateAccountIn) (Account, string, error) {
		if in.Stage != "" && !slices.Contains(accountStages, in.Stage) {
			return Account{}, "", fmt.Errorf("stage %q is not one of %s", in.Stage, strings.Join(accountStages, ", "))
		}
		if err := checkText("note", in.Note); err != nil {
			return Account{}, "", err
		}
		var updated Account
		err := data.update(at, func(items []Account) ([]Account, error) {
			for i := range items {
				if items[i].ID == in.AccountID {
					if in.Stage != "" {
						items[i].Stage = in.Stage
					}
					if in.Note != "" {
						items[i].Note = in.Note
					}
					updated = items[i]
					return items, nil
				}
			}
			return nil, fmt.Errorf("no account %q; list_accounts lists the ids", in.AccountID)
		})
		return updated, fmt.Sprintf("Updated %s (%s): stage %s.", updated.ID, updated.Name, updated.Stage), err
	})
}

// Item is a record of the generic theme.
type Item struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Owner string `json:"owner"`
}

type itemsOut struct {
	Items []Item `json:"items"`
}

type createItemIn struct {
	Title string `json:"title" jsonschema:"the item title"`
}

var itemTitles = []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"}

func genericTheme(s *mcp.Server, ts toolScopes, read, write string) {
	data := newUserData("generic", func(rng *rand.Rand, user string) []Item {
		var items []Item
		for i, t := range pick(rng, itemTitles, 4) {
			items = append(items, Item{ID: fmt.Sprintf("item-%d", i+1), Title: t, Owner: user})
		}
		return items
	})
	addTool(s, ts, read, &mcp.Tool{
		Name: "list_items", Title: "List items",
		Description: "Lists your items.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
	}, func(_ context.Context, at *authserver.AccessToken, _ struct{}) (itemsOut, string, error) {
		var out itemsOut
		err := data.update(at, func(items []Item) ([]Item, error) {
			out.Items = append(out.Items, items...)
			return items, nil
		})
		out.Items = nonNil(out.Items)
		return out, fmt.Sprintf("%d items.", len(out.Items)), err
	})
	if write == "" {
		return
	}
	addTool(s, ts, write, &mcp.Tool{
		Name: "create_item", Title: "Create an item",
		Description: "Creates an item.",
	}, func(_ context.Context, at *authserver.AccessToken, in createItemIn) (Item, string, error) {
		if err := checkText("title", in.Title); err != nil {
			return Item{}, "", err
		}
		var created Item
		err := data.update(at, func(items []Item) ([]Item, error) {
			if err := checkRoom(items, "items"); err != nil {
				return nil, err
			}
			created = Item{ID: fmt.Sprintf("item-%d", len(items)+1), Title: in.Title, Owner: displayName(at)}
			return append(items, created), nil
		})
		return created, fmt.Sprintf("Created %s %q.", created.ID, created.Title), err
	})
}
