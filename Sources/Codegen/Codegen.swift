import LossDSL

/// Backends that turn a `CompiledLoss` into fast code: C kernels (`CEmitter`, built and
/// loaded by `NativeLoader`, wrapped with a Swift fallback by `NativeBatch`), a standalone Swift
/// file (`SwiftEmitter`), and Swift closures.
public enum Codegen {
    /// The version of the code generators (part of native-build cache keys).
    public static let version = "0.1.0"
}
