import LossDSL

/// Command-line support shared by the subcommands that accept ranking losses.
enum RankingCLI {
    /// The file, when its header declares a ranking loss (nil otherwise, or when it does not
    /// parse: the per-sample path then reports the error).
    static func rankingFile(_ path: String) throws -> SourceFile? {
        let file = SourceFile(path: path, bytes: try readFile(path))
        return RankingFormula.isRanking(file) == true ? file : nil
    }

    /// Parses a ranking loss, printing its diagnostics and throwing `Failure` on error.
    static func load(_ file: SourceFile, params: [String: Double]) throws -> RankingFormula {
        do { return try RankingFormula.parse(file, params: params) } catch {
            reportDiagnostics(error)
            throw Failure(status: .badInput)
        }
    }
}
