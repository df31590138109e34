//! ipcrules-fs: decompile a rules cdb into a rules directory, atomically (drop-in
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    ipctools::cli::ipcrules_fs::main()
}
