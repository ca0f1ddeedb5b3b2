/// Powers of ten that a `Double` represents exactly, for the fast path of decimal conversion.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

extension Reader {
    /// Parses the number at the cursor.
    ///
    /// Integers that fit `Int64` are accumulated exactly. Decimals with at most 2^53 as significand and a
    /// power of ten up to 10^22 are converted with one exact multiply or divide, which IEEE 754 rounds
    /// correctly; everything else goes to the standard library's correctly rounded conversion.
    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = position
        var index = position
        let isNegative = byte(at: index) == ASCII.minus
        if isNegative {
            index += 1
        }
        var significand: UInt64 = 0
        var significandOverflowed = false

        guard index < count else {
            throw fail(.unexpectedEnd, at: count)
        }
        let firstDigit = byte(at: index)
        if firstDigit == ASCII.zero {
            index += 1
            if index < count, isDigit(byte(at: index)) {
                throw fail(.invalidNumber, at: index)
            }
        } else if isDigit(firstDigit) {
            repeat {
                accumulate(byte(at: index), into: &significand, overflowed: &significandOverflowed)
                index += 1
            } while index < count && isDigit(byte(at: index))
        } else {
            throw fail(.invalidNumber, at: index)
        }

        var isInteger = true
        var fractionDigits = 0
        if index < count, byte(at: index) == ASCII.dot {
            isInteger = false
            index += 1
            guard index < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            guard isDigit(byte(at: index)) else {
                throw fail(.invalidNumber, at: index)
            }
            repeat {
                accumulate(byte(at: index), into: &significand, overflowed: &significandOverflowed)
                fractionDigits += 1
                index += 1
            } while index < count && isDigit(byte(at: index))
        }

        var exponent = 0
        if index < count, byte(at: index) | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            guard index < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            var exponentIsNegative = false
            let sign = byte(at: index)
            if sign == ASCII.minus || sign == ASCII.plus {
                exponentIsNegative = sign == ASCII.minus
                index += 1
                guard index < count else {
                    throw fail(.unexpectedEnd, at: count)
                }
            }
            guard isDigit(byte(at: index)) else {
                throw fail(.invalidNumber, at: index)
            }
            repeat {
                // Saturate: any exponent this large already means zero or infinity.
                if exponent < 1_000_000 {
                    exponent = exponent * 10 + Int(byte(at: index) - ASCII.zero)
                }
                index += 1
            } while index < count && isDigit(byte(at: index))
            if exponentIsNegative {
                exponent = -exponent
            }
        }
        position = index

        if isInteger, !significandOverflowed {
            if isNegative, significand <= UInt64(Int64.max) + 1 {
                return .integer(Int64(bitPattern: 0 &- significand))
            }
            if !isNegative, significand <= UInt64(Int64.max) {
                return .integer(Int64(significand))
            }
        }

        let decimalExponent = exponent - fractionDigits
        if !significandOverflowed, significand <= 1 << 53, (-22...22).contains(decimalExponent) {
            var magnitude = Double(significand)
            if decimalExponent < 0 {
                magnitude /= exactPowersOfTen[-decimalExponent]
            } else {
                magnitude *= exactPowersOfTen[decimalExponent]
            }
            return .double(isNegative ? -magnitude : magnitude)
        }

        // The text has been validated against the JSON grammar, which is a subset of what this accepts.
        let text = makeString(from: start, to: index)
        guard let double = Double(text), double.isFinite else {
            throw fail(.numberOutOfRange, at: start)
        }
        return .double(double)
    }

    @inline(__always)
    private func accumulate(_ digit: UInt8, into significand: inout UInt64, overflowed: inout Bool) {
        // (UInt64.max - 9) / 10: the largest value that can take one more digit without overflowing.
        if significand <= 1_844_674_407_370_955_160 {
            significand = significand * 10 + UInt64(digit - ASCII.zero)
        } else {
            overflowed = true
        }
    }
}
