//! ipcrules-cdb: compile an s6 rules directory into a cdb file (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcrules_cdb::main()
}
