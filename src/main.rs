//! The `policydiff` command: a thin shell over the library. [`cli::args`] is the grammar,
//! [`cli::commands`] calls the library and [`cli::output`] prints; an error ends the command
//! with its message and [`policydiff::Error::exit_code`].

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    // Output piped into `head` and the like: end quietly when the reader goes away.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Git packs are read through memory maps; every page touched counts as the process's
    // memory until unmapped. Small windows under a small cap keep a round from holding its
    // packs mapped (a round reads versions from dozens of packs); remapping a window costs
    // little, since the pages stay in the page cache.
    // SAFETY: libgit2's global options, set before any thread uses libgit2.
    unsafe {
        let _ = git2::opts::set_mwindow_size(1 << 20);
        let _ = git2::opts::set_mwindow_mapped_limit(4 << 20);
        // libgit2 keeps the trees and commits it parses (those under 4 KB) in a cache per
        // repository handle: over a round, hundreds of folders' trees and commits, most read
        // once (drafting's walk of the new commits), held for nothing. The lookups a round repeats
        // keep what they need themselves (`record`'s per-thread view of the tip). `verify`,
        // which reads every commit's trees, turns the cache back on, within 4 MB.
        git2::opts::enable_caching(false);
        let _ = git2::opts::set_cache_max_size(4 << 20);
    }
    // glibc gives each thread that allocates its own arena, up to eight per core; the threads
    // of a round then leave memory scattered over many arenas. Four are enough for the threads
    // that work at once on a small machine.
    // Each page extracted allocates and frees a few megabytes. By default glibc hands blocks
    // over 128 KB to the kernel and back, and returns the free top of a heap as soon as it
    // passes 128 KB: every page then faults its memory in anew.
    // Keeping up to 4 MB per arena, and serving blocks up to 1 MB from the arenas, avoids that
    // for a few megabytes of memory.
    // SAFETY: allocator settings, changed before any thread starts.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
    let arguments = cli::args::Cli::parse();
    let command = arguments.command.name();
    match cli::commands::run(arguments) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("policydiff {command}: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
