//! Prometheus metrics: labelled counters kept in memory per process, and
//! queue gauges read from the database when scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// A counter family: name, help text, label name.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub label: &'static str,
}

pub const INBOX_REQUESTS: Family = Family {
    name: "estuary_inbox_requests_total",
    help: "Inbox POSTs by outcome.",
    label: "outcome",
};
pub const VERIFICATION_FAILURES: Family = Family {
    name: "estuary_signature_verification_failures_total",
    help: "Rejected inbound signatures by reason.",
    label: "reason",
};
pub const DELIVERIES: Family = Family {
    name: "estuary_deliveries_total",
    help: "Outbound deliveries by outcome.",
    label: "outcome",
};

pub const JOB_ATTEMPTS: Family = Family {
    name: "estuary_job_attempts_total",
    help: "Attempts at queued jobs by outcome (done, retry, dead).",
    label: "outcome",
};

const FAMILIES: [Family; 4] = [
    INBOX_REQUESTS,
    VERIFICATION_FAILURES,
    DELIVERIES,
    JOB_ATTEMPTS,
];

/// What the queue looks like when scraped, beyond its depth.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Backlog {
    /// How long the longest-waiting due job has waited past its run time,
    /// in seconds (0 when none waits). Jobs waiting for a retry later are
    /// not late; a due job nobody takes is.
    pub oldest_age_seconds: f64,
    /// The most attempts any unfinished job has made.
    pub max_attempts: i64,
}

impl Backlog {
    /// The gauges in the text exposition format.
    pub fn render(&self) -> String {
        format!(
            "# HELP estuary_queue_oldest_job_age_seconds How long the longest-waiting due job has waited past its run time.\n\
             # TYPE estuary_queue_oldest_job_age_seconds gauge\n\
             estuary_queue_oldest_job_age_seconds {:.3}\n\
             # HELP estuary_queue_max_attempts Most attempts made by any unfinished job.\n\
             # TYPE estuary_queue_max_attempts gauge\n\
             estuary_queue_max_attempts {}\n",
            self.oldest_age_seconds, self.max_attempts
        )
    }
}

/// The counters of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
}

impl Metrics {
    pub fn increment(&self, family: Family, label_value: &str) {
        let mut counters = self.counters.lock().expect("metrics lock");
        *counters
            .entry((family.name, label_value.to_owned()))
            .or_default() += 1;
    }

    /// The value of one counter (tests and benchmarks read it).
    pub fn get(&self, family: Family, label_value: &str) -> u64 {
        let counters = self.counters.lock().expect("metrics lock");
        counters
            .get(&(family.name, label_value.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// The text exposition format, with `gauges` (queue depth by status)
    /// appended.
    pub fn render(&self, queue_depth: &[(String, String, i64)]) -> String {
        let counters = self.counters.lock().expect("metrics lock");
        let mut out = String::new();
        for family in FAMILIES {
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} counter", family.name);
            for ((name, value), count) in counters.iter() {
                if *name == family.name {
                    let _ = writeln!(
                        out,
                        "{name}{{{}=\"{}\"}} {count}",
                        family.label,
                        escape(value)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP estuary_queue_depth Jobs in the queue by kind and status."
        );
        let _ = writeln!(out, "# TYPE estuary_queue_depth gauge");
        for (kind, status, count) in queue_depth {
            let _ = writeln!(
                out,
                "estuary_queue_depth{{kind=\"{}\",status=\"{}\"}} {count}",
                escape(kind),
                escape(status)
            );
        }
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_the_text_format() {
        let metrics = Metrics::default();
        metrics.increment(INBOX_REQUESTS, "accepted");
        metrics.increment(INBOX_REQUESTS, "accepted");
        metrics.increment(VERIFICATION_FAILURES, "bad\"reason");
        let text = metrics.render(&[("deliver".into(), "pending".into(), 3)]);
        assert!(text.contains("estuary_inbox_requests_total{outcome=\"accepted\"} 2\n"));
        assert!(text.contains(
            "estuary_signature_verification_failures_total{reason=\"bad\\\"reason\"} 1\n"
        ));
        assert!(text.contains("estuary_queue_depth{kind=\"deliver\",status=\"pending\"} 3\n"));
        assert!(text.contains("# TYPE estuary_deliveries_total counter\n"));
        assert_eq!(metrics.get(INBOX_REQUESTS, "accepted"), 2);
    }

    #[test]
    fn the_backlog_renders_as_two_gauges() {
        let text = Backlog {
            oldest_age_seconds: 90.5,
            max_attempts: 7,
        }
        .render();
        assert!(text.contains("# TYPE estuary_queue_oldest_job_age_seconds gauge\n"));
        assert!(text.contains("estuary_queue_oldest_job_age_seconds 90.500\n"));
        assert!(text.contains("estuary_queue_max_attempts 7\n"));
    }
}
