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
