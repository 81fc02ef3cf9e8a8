// Package threshold implements per-rule alert thresholds with Suricata's
// meaning (type limit, threshold or both; track by_src, by_dst, by_both,
// by_flow or by_rule; count and seconds), counting of distinct values
// ("more than 20 different ports from one source in 10 s"), and visible
// de-duplication of repeated alerts ([Deduper]). Thresholds, tracks and
// windows are the rules package's typed values ([rules.Threshold],
// [rules.Track]), taken as loaded.
//
// All time is packet time, passed in by the caller, never the wall clock.
// Memory is bounded by the maxEntries given to the constructors: when a
// Tracker or Deduper is full its least recently used entry is dropped.
//
// A Tracker and a Deduper belong to one worker goroutine; they are not
// safe for concurrent use.
//
// It belongs to the engine room: of Vigil it imports rules, rules/field and
// engine/internal/lru.
package threshold
