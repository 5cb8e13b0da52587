//! The `goshi` binary: a thin shell over the library's CLI.

fn main() -> std::process::ExitCode {
    goshi::cli::main()
}
