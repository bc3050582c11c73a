/// The "regenerate with" line in every emitted file's header comment.
enum Provenance {
    /// `command` when the caller knows it (the CLI passes its own command line, options such as
    /// `--param`, `--name` and `-o` included, so rerunning the line rebuilds the same file), else
    /// `lossc emit PATH --target TARGET` for a file emitted through the library.
    static func regenerate(_ command: String?, path: String, target: String) -> String {
        command ?? "lossc emit \(path) --target \(target)"
    }
}
