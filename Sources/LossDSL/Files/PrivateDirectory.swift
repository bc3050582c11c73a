import Foundation

/// A fresh directory only this process uses (`mkdtemp`, mode 0700) under `$TMPDIR` (else
/// `/tmp`): scratch space for the compiler and per-run evaluator files, so concurrent runs
/// never share (or swap) files.
public func makePrivateDirectory(_ tag: String) throws(OutputError) -> String {
    var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    if base.isEmpty { base = "/tmp" }
    while base.count > 1, base.hasSuffix("/") { base.removeLast() }
    var template = Array((base + "/lossc-\(tag)-XXXXXX").utf8CString)
    let ok = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
    if !ok { throw OutputError(path: base, code: errno) }
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Removes a directory tree (best effort: used for scratch directories only).
public func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}
