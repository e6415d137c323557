//! `ulimit -n`: every subscription holds a socket at each end of both hops, so this process
//! (clients and the stock subgraph) and the gateway (which inherits the limit) each need about
//! two descriptors per subscription.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors one process needs for `subscriptions` at once: two per subscription, and room
/// for the rest (the products subgraph's connections, files, the runtime).
pub fn needed(subscriptions: usize) -> u64 {
    2 * subscriptions as u64 + 1024
}

/// The most subscriptions `limit` descriptors hold, by [`needed`].
pub fn fits(limit: u64) -> u64 {
    limit.saturating_sub(1024) / 2
}

/// Raises the soft limit to the hard one; when that is below `need`, tries to raise the hard
/// limit too (only a privileged process may). Returns the soft limit in force, and a warning
/// for the user when it is below `need`.
pub fn raise(need: u64) -> (u64, Option<String>) {
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    let target = if hard < need {
        let raised = Rlimit {
            current: Some(need),
            maximum: Some(need),
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return (need, None);
        }
        hard
    } else {
        hard
    };
    let soft = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    let now = if setrlimit(Resource::Nofile, soft).is_ok() {
        target
    } else {
        limit.current.unwrap_or(u64::MAX)
    };
    let warning = (now < need).then(|| {
        format!(
            "the open-file limit is {now} (hard limit {hard}, and this process may not raise \
             it) and the largest run needs about {need} in this process and as many in the \
             gateway: past about {} subscriptions that share no subgraph stream, sockets fail with EMFILE and the run's figures are wrong. Raise the hard \
             limit (`ulimit -Hn {need}` in a shell with CAP_SYS_RESOURCE, or `nofile` in \
             /etc/security/limits.conf) or run fewer.",
            fits(now)
        )
    });
    (now, warning)
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_fits_is_what_is_needed_turned_round() {
        assert_eq!(super::needed(9_488), 20_000);
        assert_eq!(super::fits(20_000), 9_488);
    }
}
