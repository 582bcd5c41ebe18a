//! The command line: its grammar ([`args`]), one function per command ([`commands`]) and what
//! is printed for people ([`output`]). It decides nothing: the library does.

pub(crate) mod args;
pub(crate) mod commands;
pub(crate) mod output;
