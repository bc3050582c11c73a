/// Identifiers and comment text for emitted C (and Swift): everything that comes from a
/// `.loss` file or from an API caller goes through here, so no user text reaches the
/// emitted code unescaped.
///
/// Two kinds of user text appear in emitted code:
/// - **names** (the loss name as a prefix of every exported symbol, param names as struct
///   fields): mapped injectively to safe identifiers by `identifier(_:)`;
/// - **the source formula** in the header's comment: made inert by `commentText(_:)`.
public enum CNames {
    /// A safe identifier for `name`, injective over all strings.
    ///
    /// A *plain* name (lowercase or uppercase ASCII letters, digits and single inner
    /// underscores, starting with a letter, with at least one lowercase letter, not a C/C++
    /// keyword, not a lowercase macro the C headers or compilers predefine) is kept as it is:
    /// `alpha` stays `alpha`. A name without a lowercase letter is never plain: object-like
    /// macros are written in capitals (`INT32_MAX`, `M_PI_2`, lossc's own `LOSSC_BLOCK`), so no
    /// list of them is needed, and every emitted identifier built from a name (the include
    /// guard `LOSSC_<prefix>_H` included) differs from every all-capitals macro. Anything else is encoded
    /// as `v` + body + `_`, where the body keeps letters and digits, writes `_` as `__` and any
    /// other byte of the UTF-8 text as `_xHH`. Plain names never end in `_` and encoded ones
    /// always do, and the body encoding decodes left to right without ambiguity, so two
    /// different names never give the same identifier (`int` → `vint_`, `a b` → `va_x20b_`).
    public static func identifier(_ name: String) -> String {
        isPlain(name) ? name : encoded(name)
    }

    /// The encoded form `v` + body + `_` (see `identifier(_:)`), for any name.
    public static func encoded(_ name: String) -> String {
        var out = "v"
        for b in name.utf8 {
            if isAlnum(b) { out.append(Character(Unicode.Scalar(b))) }
            else if b == UInt8(ascii: "_") { out += "__" }
            else { out += "_x" + hex2(b) }
        }
        return out + "_"
    }

    /// Whether `name` may be used as an identifier unchanged (see `identifier(_:)`).
    public static func isPlain(_ name: String) -> Bool {
        hasPlainShape(name) && name.utf8.contains { $0 >= 97 && $0 <= 122 } && !reserved.contains(name)
    }

    /// ASCII letters, digits and single inner underscores, starting with a letter.
    public static func hasPlainShape(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard let first = b.first, isAlpha(first), b.last != UInt8(ascii: "_") else { return false }
        var previousUnderscore = false
        for c in b {
            if c == UInt8(ascii: "_") {
                if previousUnderscore { return false }
                previousUnderscore = true
            } else if isAlnum(c) {
                previousUnderscore = false
            } else {
                return false
            }
        }
        return true
    }

    /// The name of the ranking header's `<prefix>_REACHES_U` macro: capitals for an all-lowercase
    /// prefix (`pap` → `PAP_REACHES_U`), the prefix as it is otherwise (`paP_REACHES_U`), so two
    /// prefixes never share it (upper-casing alone maps `pap` and `paP` together).
    public static func reachesUMacro(_ prefix: String) -> String {
        (prefix.utf8.contains { $0 >= 65 && $0 <= 90 } ? prefix : prefix.uppercased()) + "_REACHES_U"
    }

    /// Text that can sit inside a `/* ... */` C comment (or a Swift `//` comment) without
    /// ending it, opening a nested one, forming a trigraph or a line splice, or carrying a
    /// control or non-ASCII character: printable ASCII is kept, `*/` and `/*` get a space,
    /// `??` becomes `?<U+003F>`, and every other character (backslash, tab, non-ASCII, NUL…)
    /// is written `<U+XXXX>`. Newlines are kept only when `multiline` is true.
    public static func commentText(_ text: String, multiline: Bool = true) -> String {
        var out = ""
        var previous: Unicode.Scalar?
        for s in text.unicodeScalars {
            defer { previous = s }
            let v = s.value
            if s == "\n" {
                out += multiline ? "\n" : "<U+000A>"
                continue
            }
            if s == "\r" { continue }
            guard v >= 0x20, v < 0x7F, s != "\\" else { out += "<U+\(hex4(v))>"; continue }
            if s == "/", previous == "*" { out += " " }
            if s == "*", previous == "/" { out += " " }
            if s == "?", previous == "?" { out += "<U+003F>"; previous = nil; continue }
            out.append(Character(s))
        }
        return out
    }

    /// C and C++ keywords (the header is also read by C++ compilers), and macros that C
    /// compilers predefine or that `<math.h>`, `<stddef.h>`, `<stdint.h>`, `<string.h>`,
    /// `<stdio.h>`, `<stdlib.h>` and `<errno.h>` define as object-like macros, which would
    /// otherwise expand inside a struct field name.
    static let reserved: Set<String> = [
        // C99 / C11 / C23
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
        "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
        "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
        "typedef", "union", "unsigned", "void", "volatile", "while", "alignas", "alignof",
        "bool", "constexpr", "false", "nullptr", "static_assert", "thread_local", "true",
        "typeof", "typeof_unqual",
        // C++ beyond C
        "and", "and_eq", "asm", "bitand", "bitor", "catch", "char8_t", "char16_t", "char32_t",
        "class", "co_await", "co_return", "co_yield", "compl", "concept", "consteval",
        "constinit", "const_cast", "decltype", "delete", "dynamic_cast", "explicit", "export",
        "friend", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "operator", "or",
        "or_eq", "private", "protected", "public", "reinterpret_cast", "requires",
        "static_cast", "template", "this", "throw", "try", "typeid", "typename", "using",
        "virtual", "wchar_t", "xor", "xor_eq",
        // Predefined by gcc/clang in GNU modes
        "linux", "unix", "i386",
        // Object-like macros of the standard headers
        "NULL", "EOF", "BUFSIZ", "FILENAME_MAX", "FOPEN_MAX", "L_tmpnam", "TMP_MAX", "SEEK_SET",
        "SEEK_CUR", "SEEK_END", "stdin", "stdout", "stderr", "EXIT_SUCCESS", "EXIT_FAILURE",
        "RAND_MAX", "MB_CUR_MAX", "errno", "EDOM", "ERANGE", "EILSEQ", "INFINITY", "NAN",
        "HUGE_VAL", "HUGE_VALF", "HUGE_VALL", "FP_INFINITE", "FP_NAN", "FP_NORMAL",
        "FP_SUBNORMAL", "FP_ZERO", "FP_FAST_FMA", "FP_FAST_FMAF", "FP_FAST_FMAL", "FP_ILOGB0",
        "FP_ILOGBNAN", "MATH_ERRNO", "MATH_ERREXCEPT", "math_errhandling", "SIZE_MAX",
        "PTRDIFF_MIN", "PTRDIFF_MAX", "SIG_ATOMIC_MIN", "SIG_ATOMIC_MAX", "WCHAR_MIN",
        "WCHAR_MAX", "WINT_MIN", "WINT_MAX", "INTPTR_MIN", "INTPTR_MAX", "UINTPTR_MAX",
        "INTMAX_MIN", "INTMAX_MAX", "UINTMAX_MAX", "M_E", "M_PI", "M_LN2", "M_LN10", "M_SQRT2",
        "complex", "imaginary", "I", "assert",
    ]

    static func isAlpha(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
    static func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || (c >= 48 && c <= 57) }

    static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }

    static func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}
