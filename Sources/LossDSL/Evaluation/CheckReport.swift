/// The result of `lossc check`: a list of sections, each a named check with a status and
/// details. The static checks (syntax, names, shapes, hazards) come first; the convergence
/// stages add their own sections.
public struct CheckReport: Sendable {
    public enum Status: String, Sendable {
        /// Nothing wrong found (or proved, for a property).
        case passed
        /// A defect: the loss should not be used as is.
        case failed
        /// Worth a look, not a defect.
        case warning
        /// Not decided, or not run.
        case skipped
    }

    public struct Section: Sendable {
        public var name: String
        public var status: Status
        /// One line each, for the terminal and JSON.
        public var details: [String]
        public var diagnostics: [Diagnostic]
        public init(name: String, status: Status, details: [String] = [], diagnostics: [Diagnostic] = []) {
            self.name = name; self.status = status; self.details = details; self.diagnostics = diagnostics
        }
    }

    public var sections: [Section] = []
    public init() {}

    /// True when no section failed.
    public var passed: Bool { !sections.contains { $0.status == .failed } }

    /// The static checks of a compiled loss: size, search-space membership, hazards.
    public static func staticChecks(_ loss: CompiledLoss) -> CheckReport {
        var r = CheckReport()
        let f = loss.formula
        let outside = f.outsideSearchSpace
        var lang = Section(name: "syntax, names and shapes", status: f.warnings.isEmpty ? .passed : .warning,
                           diagnostics: f.warnings)
        let opt = loss.optimizedFormula
        lang.details.append("\(f.graph.liveCount(from: [f.root])) nodes as written, \(opt.graph.liveCount(from: opt.roots)) after optimization; value and gradient kernel: \(loss.graph.liveCount(from: [loss.value] + loss.gradient)) nodes")
        lang.details.append(outside.isEmpty ? "inside the CSE-Autoloss search space"
                            : "outside the CSE-Autoloss search space (uses \(outside.map(\.name).joined(separator: ", ")))")
        r.sections.append(lang)
        let hz = HazardCheck.diagnostics(loss)
        let status: Status = hz.contains { $0.severity == .error } ? .failed : (hz.isEmpty ? .passed : .warning)
        r.sections.append(Section(name: "numeric hazards", status: status,
                                  details: hz.isEmpty ? ["no log/sqrt of a possibly non-positive value, no possible division by zero, no float32 exp overflow over the input domain"] : [],
                                  diagnostics: hz))
        return r
    }
}
