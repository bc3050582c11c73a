import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LossDSL

/// The subcommands, in the order `lossc --help` lists them.
nonisolated(unsafe) let commands: [(spec: CommandSpec, run: (Arguments) throws -> ExitStatus)] = [
    (CheckCommand.spec, CheckCommand.run),
    (EvalCommand.spec, EvalCommand.run),
    (FmtCommand.spec, FmtCommand.run),
    (DumpCommand.spec, DumpCommand.run),
    (GraphCommand.spec, GraphCommand.run),
    (PlotCommand.spec, PlotCommand.run),
    (ImportCommand.spec, ImportCommand.run),
    (OpsCommand.spec, OpsCommand.run),
    (EmitCommand.spec, EmitCommand.run),
    (BuildCommand.spec, BuildCommand.run),
    (SearchCommand.spec, SearchCommand.run),
    (BenchCommand.spec, BenchCommand.run),
    (SearchParamsCommand.spec, SearchParamsCommand.run),
]

let version = "0.1.0"

func topLevelHelp() -> String {
    var s = """
    OVERVIEW: lossc, a compiler for loss functions written as formulas.

    USAGE: lossc <subcommand> [options]

    SUBCOMMANDS:

    """
    for c in commands { s += "  " + c.spec.name + String(repeating: " ", count: max(2, 15 - c.spec.name.count)) + c.spec.summary + "\n" }
    s += "\n  See 'lossc <subcommand> --help' for details. Exit status: 0 success, 1 a check failed, 2 bad usage or input.\n"
    return s
}

/// Runs `lossc` with `CommandLine.arguments` and returns the exit status (see `topLevelHelp`).
public func main() -> Int32 {
    Terminal.prepareStandardStreams()
    let status = run()
    Terminal.flush()
    if Terminal.outFailure != 0 {
        Terminal.error("lossc: error: cannot write stdout: \(String(cString: strerror(Terminal.outFailure)))\n")
        return ExitStatus.badInput.rawValue
    }
    return status
}

func run() -> Int32 {
    var args = Array(CommandLine.arguments.dropFirst())
    guard let first = args.first else { Terminal.error(topLevelHelp()); return ExitStatus.badInput.rawValue }
    if first == "--help" || first == "-h" || first == "help" { Terminal.write(topLevelHelp()); Terminal.flush(); return 0 }
    if first == "--version" { Terminal.write("lossc \(version)\n"); Terminal.flush(); return 0 }
    args.removeFirst()
    // `lossc search --params FILE …` is the parameter search of `lossc search-params`.
    var name = first
    if first == "search", let i = args.firstIndex(of: "--params") {
        name = "search-params"
        args.remove(at: i)
    }
    guard let cmd = commands.first(where: { $0.spec.name == name }) else {
        let near = nearestNames(to: first, in: commands.map(\.spec.name))
        Terminal.error("lossc: error: unknown subcommand '\(first)'\n  hint: \(near.first.map { "did you mean '\($0)'?" } ?? "see 'lossc --help'")\n")
        return ExitStatus.badInput.rawValue
    }
    do {
        let parsed = try Arguments.parse(args, cmd.spec)
        if parsed.has("help") { Terminal.write(cmd.spec.help); Terminal.flush(); return 0 }
        // The docs test checks a benchmark's command line without its minutes-long run.
        if ProcessInfo.processInfo.environment["LOSSC_ARGS_ONLY"] == "1" { return ExitStatus.success.rawValue }
        let status = try cmd.run(parsed)
        Terminal.flush()
        return status.rawValue
    } catch let e as UsageError {
        Terminal.flush()
        Terminal.error("\(e.location ?? "lossc \(cmd.spec.name)"): error: \(e.message)\n" + (e.hint.map { "  hint: \($0)\n" } ?? ""))
        return ExitStatus.badInput.rawValue
    } catch let d as DiagnosticError {
        Terminal.flush()
        Terminal.error(d.render(color: Terminal.stderrColor))
        return ExitStatus.badInput.rawValue
    } catch let f as Failure {
        Terminal.flush()
        return f.status.rawValue
    } catch {
        Terminal.flush()
        Terminal.error("lossc \(cmd.spec.name): error: \(String(describing: type(of: error))): \(error.localizedDescription)\n")
        return ExitStatus.badInput.rawValue
    }
}
