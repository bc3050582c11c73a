#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LossDSL

/// A shared library opened with `dlopen`, closed when the last reference goes away.
public final class NativeLibrary: @unchecked Sendable {
    // @unchecked: the handle is only read after init; dlsym/dlclose are thread-safe.
    let handle: UnsafeMutableRawPointer
    public let path: String

    /// Opens the library at `path`; the error carries `dlerror()`'s message.
    public init(path: String) throws(NativeError) {
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw NativeError(message: "cannot load \(path): " + (dlerror().map { String(cString: $0) } ?? "unknown error"))
        }
        handle = h
        self.path = path
    }

    /// The address of an exported symbol, or nil.
    public func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }

    deinit { dlclose(handle) }
}

/// A failure of the native path (no compiler, a build or load error).
public struct NativeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The emitted kernels of one loss in a loaded library, callable from Swift.
public struct NativeKernel: Sendable {
    public let library: NativeLibrary
    public let kind: LossKind
    // Addresses of the kernels (as integers, which are Sendable; the library outlives them).
    let f32: UInt?
    let f64: UInt?

    // One C type per kind: data pointers are untyped here (float* and double* pass alike).
    typealias Elementwise = @convention(c) (Int, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?,
                                            UnsafeRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Double
    typealias Multiclass = @convention(c) (Int, Int, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?,
                                           UnsafeRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Double
    typealias Box = @convention(c) (Int, UnsafeRawPointer?, UnsafeRawPointer?,
                                    UnsafeRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Double

    /// Looks up `PREFIX_f32` and `PREFIX_f64`; fails if neither is there.
    public init(library: NativeLibrary, prefix: String, kind: LossKind) throws(NativeError) {
        self.library = library
        self.kind = kind
        f32 = library.symbol(prefix + "_f32").map { UInt(bitPattern: $0) }
        f64 = library.symbol(prefix + "_f64").map { UInt(bitPattern: $0) }
        if f32 == nil && f64 == nil { throw NativeError(message: "\(library.path) has no \(prefix)_f32 or \(prefix)_f64") }
    }

    /// Whether the library has the kernel of this precision.
    public func has<T: LossReal>(_: T.Type) -> Bool { (T.self == Float.self ? f32 : f64) != nil }

    /// Calls the kernel: `inputs` are x, y, w (binary, multiclass) or pred, target (box);
    /// `params` points at the param values in order (nil: the emitted defaults). Returns the
    /// sum of the losses; nil if the library lacks this precision.
    public func call<T: LossReal>(n: Int, classes: Int = 1, inputs: [UnsafePointer<T>?], params: UnsafePointer<Double>?,
                                  loss: UnsafeMutablePointer<T>?, gradient: UnsafeMutablePointer<T>?) -> Double? {
        guard let address = T.self == Float.self ? f32 : (T.self == Double.self ? f64 : nil),
              let f = UnsafeRawPointer(bitPattern: address) else { return nil }
        let p = UnsafeRawPointer(params)
        func input(_ i: Int) -> UnsafeRawPointer? { i < inputs.count ? inputs[i].map(UnsafeRawPointer.init) : nil }
        let l = loss.map(UnsafeMutableRawPointer.init), g = gradient.map(UnsafeMutableRawPointer.init)
        switch kind {
        case .multiclass:
            return unsafeBitCast(f, to: Multiclass.self)(n, classes, input(0), input(1), input(2), p, l, g)
        case .box:
            return unsafeBitCast(f, to: Box.self)(n, input(0), input(1), p, l, g)
        default:
            return unsafeBitCast(f, to: Elementwise.self)(n, input(0), input(1), input(2), p, l, g)
        }
    }
}
