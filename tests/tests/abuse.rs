//! The hostile-visitor and hostile-merchant suite at a real host: the
//! `cove-bench abuse` run at smoke size (so the bench cannot rot), with
//! its bounds asserted. The attacks one by one are tests of their own
//! features (public writes in `widget.rs`, returns in `returns.rs`,
//! imports in `customers.rs`, runs and batches in `rfm.rs` and
//! `messaging.rs`); this runs them together against one `cove serve`.

#[test]
fn a_host_under_abuse_stays_within_its_bounds() {
    let figures = cove_e2e::bench_smoke(&["abuse"]);
    let mb = |k: &str| figures[k].as_f64().unwrap_or(f64::NAN);
    // Memory and disk are bounds, not timings: 240 flood requests and an
    // 8 MiB record leave the host where it was; one order's photos stay
    // at six.
    assert!(mb("public_flood_rss_growth_mb") <= 50.0, "{figures}");
    assert!(mb("import_huge_record_rss_growth_mb") <= 50.0, "{figures}");
    // One order keeps at most six photos; on disk they take 33.5 MB in
    // base64, plus SQLite's write-ahead log of the last few writes (the
    // bench's 50 MB target is for its full run; here the smoke run's other
    // writes share the window, so the bound leaves the log room).
    assert!(figures["photos_stored"].as_u64() <= Some(6), "{figures}");
    assert!(mb("photo_disk_growth_mb") <= 60.0, "{figures}");
    assert!(
        mb("neighbour_p99_ratio_under_abuse").is_finite(),
        "{figures}"
    );
}
