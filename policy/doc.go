// Package policy reads a site's trust policy — the gates a kit must pass
// before offkit verify or unpack accepts it — and evaluates a kit against
// it.
//
// A policy is a YAML document (schemas/policy.schema.json, docs/POLICY.md)
// naming the trusted keys and how many must have signed, which kit and
// versions are acceptable, how old a kit may be, and which components,
// SBOMs and labels it must carry. Each rule becomes one Gate in the
// verification report; a kit is accepted only when every gate passes, the
// way a release is cutover-ready only when all its gates pass.
package policy
