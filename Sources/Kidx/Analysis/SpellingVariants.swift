/// Folds German spelling variants on case-folded UTF-8 so that they meet in the index:
/// `ae`/`oe`/`ue` written for `ä`/`ö`/`ü` (`Pjoengjang`, `Mueller`), and, where the stemmer does
/// not do it, the umlaut itself (`Pjöngjang` = `Pjongjang`). `ß` is already `ss` after case folding.
enum SpellingVariants {
    private static let a = UInt8(ascii: "a"), o = UInt8(ascii: "o"), u = UInt8(ascii: "u")
    private static let e = UInt8(ascii: "e"), q = UInt8(ascii: "q")
    private static let lead: UInt8 = 0xC3, aUmlaut: UInt8 = 0xA4, oUmlaut: UInt8 = 0xB6, uUmlaut: UInt8 = 0xBC

    /// Rewrites `ae`, `oe`, `ue` as `ä`, `ö`, `ü`, as Snowball's `german2` variant did, but not
    /// `ue` after `q` (`Quelle`) or after a vowel: there the `u` closes a diphthong (`Frauen`,
    /// `neuen`, `Steuer`), and reading it as `ü` parted `Frauen` from `Frau` and made `neuen`
    /// the stem of `neun`. The German stemmer then removes the umlaut, so all spellings share a stem.
    /// The word is rewritten in place: each digraph and its umlaut take two bytes. A `u` after a
    /// digraph already rewritten follows a vowel either way (the digraph's `e`, now an umlaut).
    static func digraphsToUmlauts(_ word: UnsafeMutableBufferPointer<UInt8>) {
        var index = 0
        while index + 1 < word.count {
            let byte = word[index]
            if word[index + 1] == e, byte == a || byte == o || (byte == u && !closesDiphthongOrQu(word, at: index)) {
                word[index] = lead
                word[index + 1] = byte == a ? aUmlaut : byte == o ? oUmlaut : uUmlaut
                index += 2
            } else {
                index += 1
            }
        }
    }

    /// Whether the `u` at `index` follows a `q` or a vowel (`ä`, `ö`, `ü` included).
    private static func closesDiphthongOrQu(_ word: UnsafeMutableBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index > 0 else { return false }
        switch word[index - 1] {
        case q, a, e, o, u, UInt8(ascii: "i"), UInt8(ascii: "y"): return true
        case aUmlaut, oUmlaut, uUmlaut: return index > 1 && word[index - 2] == lead
        default: return false
        }
    }

    /// Replaces `ä`, `ö`, `ü` by `a`, `o`, `u` (used when the stemmer, which does this itself, is off).
    static func stripUmlauts(_ word: inout [UInt8]) {
        guard word.contains(lead) else { return }
        var output: [UInt8] = []
        output.reserveCapacity(word.count)
        var index = 0
        while index < word.count {
            if word[index] == lead, index + 1 < word.count {
                switch word[index + 1] {
                case aUmlaut: output.append(a); index += 2; continue
                case oUmlaut: output.append(o); index += 2; continue
                case uUmlaut: output.append(u); index += 2; continue
                default: break
                }
            }
            output.append(word[index])
            index += 1
        }
        word = output
    }
}
