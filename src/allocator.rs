//! glibc `malloc` settings for processes that stream large results.
//!
//! By default glibc hands allocations above a sliding threshold (128 KiB at first) to `mmap`,
//! and gives the free top of a heap back to the kernel once it exceeds another threshold. A
//! relay allocates and frees a buffer of about 1 MiB per HTTP/2 frame, so each buffer came
//! fresh from the kernel: measured on a 12M-row result through the gateway, 700,000 page
//! faults and a fifth of its CPU went to zeroing and mapping pages. With both thresholds at
//! 32 MiB the buffers are reused: 1,600 faults, the same peak RSS.
//!
//! An operator's own settings win: a threshold named in `MALLOC_MMAP_THRESHOLD_`,
//! `MALLOC_TRIM_THRESHOLD_` or `GLIBC_TUNABLES` is left as glibc read it.

/// Allocations up to this size come from the heap, and this much free memory may stay at the
/// top of a heap before it is returned to the kernel.
const THRESHOLD_BYTES: i32 = 32 * 1024 * 1024;

/// One glibc malloc parameter this module sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threshold {
    Mmap,
    Trim,
}

impl Threshold {
    const ALL: [Threshold; 2] = [Threshold::Mmap, Threshold::Trim];

    /// The environment variable glibc reads for it.
    fn env_var(self) -> &'static str {
        match self {
            Threshold::Mmap => "MALLOC_MMAP_THRESHOLD_",
            Threshold::Trim => "MALLOC_TRIM_THRESHOLD_",
        }
    }

    /// Its name in `GLIBC_TUNABLES`.
    fn tunable(self) -> &'static str {
        match self {
            Threshold::Mmap => "glibc.malloc.mmap_threshold",
            Threshold::Trim => "glibc.malloc.trim_threshold",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Threshold::Mmap => "mmap_threshold",
            Threshold::Trim => "trim_threshold",
        }
    }
}

/// The thresholds to set: those the environment leaves to us.
fn thresholds_to_set(env: impl Fn(&str) -> Option<String>) -> Vec<Threshold> {
    let tunables = env("GLIBC_TUNABLES").unwrap_or_default();
    Threshold::ALL
        .into_iter()
        .filter(|t| env(t.env_var()).is_none() && !tunables.contains(t.tunable()))
        .collect()
}

/// Applies the settings; returns what was set, for the start-up log. Call it first thing in
/// `main`, before threads start.
pub(crate) fn tune() -> String {
    let wanted = thresholds_to_set(|name| std::env::var(name).ok());
    let mut set = Vec::new();
    for threshold in wanted {
        if apply(threshold) {
            set.push(format!("{}={}MiB", threshold.name(), THRESHOLD_BYTES >> 20));
        }
    }
    if set.is_empty() {
        "unchanged".to_string()
    } else {
        set.join(" ")
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply(threshold: Threshold) -> bool {
    let param = match threshold {
        Threshold::Mmap => libc::M_MMAP_THRESHOLD,
        Threshold::Trim => libc::M_TRIM_THRESHOLD,
    };
    // SAFETY: mallopt only changes allocator parameters; both are documented for any value.
    unsafe { libc::mallopt(param, THRESHOLD_BYTES) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply(_threshold: Threshold) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn sets_both_thresholds_by_default() {
        assert_eq!(thresholds_to_set(env_of(&[])), Threshold::ALL.to_vec());
    }

    #[test]
    fn leaves_the_operators_settings_alone() {
        let env = [("MALLOC_MMAP_THRESHOLD_", "1048576")];
        assert_eq!(thresholds_to_set(env_of(&env)), vec![Threshold::Trim]);
        let env = [("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")];
        assert_eq!(thresholds_to_set(env_of(&env)), vec![Threshold::Mmap]);
        let env = [
            ("MALLOC_TRIM_THRESHOLD_", "0"),
            ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536"),
        ];
        assert!(thresholds_to_set(env_of(&env)).is_empty());
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_accepts_the_settings() {
        assert!(Threshold::ALL.into_iter().all(apply));
    }
}
