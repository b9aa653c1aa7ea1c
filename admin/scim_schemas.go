package admin

import (
	"fmt"
	"net/http"
	"net/url"
)

// The SCIM discovery endpoints (RFC 7644 section 4): what this server
// supports, its resource types and their schemas (RFC 7643 sections 5 to
// 7), static and limited to the attributes it keeps.

func (a *API) scimServiceProviderConfig(w http.ResponseWriter, _ *http.Request) {
	writeSCIM(w, http.StatusOK, map[string]any{
		"schemas":          []string{scimSPConfigSchema},
		"documentationUri": "https://github.com/xaa-idp/xaa-idp/blob/main/docs/http.md#scim-provisioning",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": scimMaxResults},
		"changePassword":   map[string]any{"supported": true},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type":        "httpbasic",
			"name":        "HTTP Basic",
			"description": "an admin user's username and password (admin: true in the configuration)",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc7617",
			"primary":     true,
		}, {
			"type":        "oauthbearertoken",
			"name":        "Bearer token",
			"description": "a token of scim.tokens in the configuration (Authorization: Bearer <token>), for SCIM only",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": a.scimBase() + "/ServiceProviderConfig"},
	})
}

func (a *API) scimResourceTypes(w http.ResponseWriter, r *http.Request) {
	base := a.scimBase()
	types := []any{
		map[string]any{
			"schemas": []string{scimResTypeSchema}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "a user of the IdP", "schema": scimUserSchema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		map[string]any{
			"schemas": []string{scimResTypeSchema}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "a group of the IdP's users", "schema": scimGroupSchema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
	answerOneOrAll(w, r, types, "resource type")
}

func (a *API) scimSchemas(w http.ResponseWriter, r *http.Request) {
	base := a.scimBase()
	schemas := []any{
		map[string]any{
			"schemas": []string{scimSchemaSchema}, "id": scimUserSchema, "name": "User", "description": "User Account",
			"attributes": []any{
				scimAttr("userName", "string", "readWrite", true, "server", "the username the user logs in with; unique, compared without the case of ASCII letters (no other folding: a Kelvin sign is not a k)"),
				caseExact(scimAttr("externalId", "string", "readWrite", false, "server", "the provisioning client's id of the user (users[].external_id); unique when set, compared with case")),
				scimComplex("name", "the user's name; the configuration keeps one, formatted",
					scimAttr("formatted", "string", "readWrite", false, "none", "the full name (the configuration's name)"),
					scimAttr("givenName", "string", "writeOnly", false, "none", "taken, with familyName, as the name when neither formatted nor displayName is sent; not kept"),
					scimAttr("familyName", "string", "writeOnly", false, "none", "see givenName")),
				scimAttr("displayName", "string", "readWrite", false, "none", "the user's name, as name.formatted"),
				scimAttr("active", "boolean", "readWrite", false, "none", "false disables the user: logins and token exchanges are refused"),
				scimAttr("password", "string", "writeOnly", false, "none", "set with POST, PUT or PATCH, kept as a bcrypt hash, never returned"),
				scimMulti("emails", "the user's email; the configuration keeps one, the primary",
					scimAttr("value", "string", "readWrite", false, "none", "the email address"),
					scimAttr("type", "string", "readWrite", false, "none", "work"),
					scimAttr("primary", "boolean", "readWrite", false, "none", "true")),
				scimMulti("groups", "the groups the user is in; read-only: change a group's members",
					scimAttr("value", "string", "readOnly", false, "none", "the group's id (its name)"),
					scimAttr("display", "string", "readOnly", false, "none", "the group's name"),
					scimAttr("$ref", "reference", "readOnly", false, "none", "the group's location")),
			},
			"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + url.PathEscape(scimUserSchema)},
		},
		map[string]any{
			"schemas": []string{scimSchemaSchema}, "id": scimGroupSchema, "name": "Group", "description": "Group",
			"attributes": []any{
				scimAttr("displayName", "string", "readWrite", true, "server", "the group's name; unique, compared without the case of ASCII letters; a new one renames the group everywhere, and its id stays"),
				caseExact(scimAttr("externalId", "string", "readWrite", false, "server", "the provisioning client's id of the group (groups[].external_id); unique when set, compared with case")),
				scimMulti("members", "the users in the group",
					scimAttr("value", "string", "immutable", false, "none", "the user's id"),
					scimAttr("display", "string", "readOnly", false, "none", "the user's userName"),
					scimAttr("$ref", "reference", "immutable", false, "none", "the user's location")),
			},
			"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + url.PathEscape(scimGroupSchema)},
		},
	}
	answerOneOrAll(w, r, schemas, "schema")
}

// answerOneOrAll answers the resource whose id is the path's {id}, or all
// of them as a ListResponse.
func answerOneOrAll(w http.ResponseWriter, r *http.Request, all []any, what string) {
	id := r.PathValue("id")
	if id == "" {
		writeSCIM(w, http.StatusOK, listOf(all))
		return
	}
	for _, v := range all {
		if v.(map[string]any)["id"] == id {
			writeSCIM(w, http.StatusOK, v)
			return
		}
	}
	scimError(w, http.StatusNotFound, "", fmt.Sprintf("there is no %s %q", what, id))
}

// scimAttr is a simple attribute's definition. Strings compare without
// case (userName, emails) but for a member's value, a user's id.
func scimAttr(name, typ, mutability string, required bool, uniqueness, desc string) map[string]any {
	a := map[string]any{
		"name": name, "type": typ, "multiValued": false, "description": desc, "required": required,
		"mutability": mutability, "returned": "default", "uniqueness": uniqueness,
	}
	if typ == "string" || typ == "reference" {
		a["caseExact"] = false
	}
	if mutability == "writeOnly" {
		a["returned"] = "never"
	}
	if name == "value" && mutability == "immutable" {
		a["caseExact"] = true
	}
	return a
}

// caseExact makes a string attribute's definition compare with case.
func caseExact(a map[string]any) map[string]any {
	a["caseExact"] = true
	return a
}

func scimComplex(name, desc string, sub ...map[string]any) map[string]any {
	return map[string]any{
		"name": name, "type": "complex", "multiValued": false, "description": desc, "required": false,
		"mutability": "readWrite", "returned": "default", "subAttributes": sub,
	}
}

func scimMulti(name, desc string, sub ...map[string]any) map[string]any {
	m := scimComplex(name, desc, sub...)
	m["multiValued"] = true
	if name == "groups" {
		m["mutability"] = "readOnly"
	}
	return m
}
