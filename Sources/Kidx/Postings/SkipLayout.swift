/// The widths of one list's skip entries, chosen for the list and told by one byte before its
/// table: each number takes the bytes its largest value needs.
///
/// An entry, little-endian: the block's last document (`documentBytes`), the end of its bytes
/// (`endBytes`), in a list with positions the end of its positions (`positionBytes`), its
/// maximum term frequency (`frequencyBytes`, 1 or 2; 65,535 in two bytes stands for that or
/// more) and its minimum norm byte. With every number at a fixed width (15 bytes an entry in
/// stems' lists, 11 in the others), FANG's 136,000 full blocks' entries took 1.75 MB; with
/// widths per list the postings are 0.77 MB smaller (28.83 → 28.06 MB), for 1 % more
/// instructions per query (OR 412.2 k → 416.6 k, AND 495.3 k → 499.7 k: the entry's size and
/// offsets are read from the table instead of being constants).
///
/// The first three numbers are read as four bytes and masked: each is followed by at least
/// two more bytes of its entry (frequency and norm), so a read passes the last entry by one
/// byte at most, and the list's first block follows its table.
struct SkipLayout: Equatable {
    var documentBytes: Int
    var endBytes: Int
    /// 0: the entries do not say where blocks' positions end.
    var positionBytes: Int
    var frequencyBytes: Int

    /// The narrowest layout for entries whose largest numbers are these (`positionsEnd` nil for
    /// a list without positions).
    init(lastDoc: UInt32, end: UInt32, positionsEnd: UInt32?, maxFreq: UInt32) {
        documentBytes = Self.bytes(lastDoc)
        endBytes = Self.bytes(end)
        positionBytes = positionsEnd.map(Self.bytes) ?? 0
        frequencyBytes = maxFreq < 256 ? 1 : 2
    }

    /// The layout its byte describes (bits 0-1: document bytes - 1, 2-3: end bytes - 1, 4-6:
    /// position bytes, 7: frequency bytes - 1); nil for a byte no layout writes.
    init?(byte: UInt8) {
        documentBytes = Int(byte & 3) + 1
        endBytes = Int(byte >> 2 & 3) + 1
        positionBytes = Int(byte >> 4 & 7)
        frequencyBytes = Int(byte >> 7) + 1
        guard positionBytes <= 4 else { return nil }
    }

    /// The byte that tells the layout.
    var byte: UInt8 {
        UInt8(documentBytes - 1 | (endBytes - 1) << 2 | positionBytes << 4 | (frequencyBytes - 1) << 7)
    }

    /// Whether entries say where blocks' positions end.
    var hasPositionEnds: Bool { positionBytes > 0 }

    /// The bytes of an entry.
    var entrySize: Int { documentBytes + endBytes + positionBytes + frequencyBytes + 1 }

    /// Where each number starts in an entry.
    var endOffset: Int { documentBytes }
    var positionsOffset: Int { documentBytes + endBytes }
    var frequencyOffset: Int { positionsOffset + positionBytes }
    var normOffset: Int { frequencyOffset + frequencyBytes }

    /// A frequency as an entry holds it: 65,535 in two bytes stands for that or more.
    func stored(frequency: UInt32) -> UInt32 { min(frequency, frequencyBytes == 1 ? 255 : UInt32(UInt16.max)) }

    /// Appends an entry.
    func append(lastDoc: UInt32, end: UInt32, positionsEnd: UInt32, maxFreq: UInt32, minNorm: UInt8, to output: inout ByteWriter) {
        func put(_ value: UInt32, bytes: Int) {
            for index in 0..<bytes { output.append(UInt8(truncatingIfNeeded: value >> UInt32(8 * index))) }
        }
        put(lastDoc, bytes: documentBytes)
        put(end, bytes: endBytes)
        put(positionsEnd, bytes: positionBytes)
        put(stored(frequency: maxFreq), bytes: frequencyBytes)
        output.append(minNorm)
    }

    /// The bytes `value` needs (1 to 4).
    private static func bytes(_ value: UInt32) -> Int { max(1, (UInt32.bitWidth - value.leadingZeroBitCount + 7) / 8) }
}
