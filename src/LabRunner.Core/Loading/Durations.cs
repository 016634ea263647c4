using System.Globalization;

namespace LabRunner.Loading;

/// <summary>Durations as a lab writes them: 500ms, 5s, 1m.</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        (string unit, double factor)[] units = [("ms", 1), ("s", 1000), ("m", 60_000)];
        foreach (var (unit, factor) in units)
        {
            if (!text.EndsWith(unit, StringComparison.Ordinal)) continue;
            var number = text[..^unit.Length];
            if (unit == "s" && number.EndsWith('m')) continue;
            // Plain decimals only: no sign, spaces, exponent, NaN or Infinity (NaN would crash TimeSpan).
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || !(n >= 0 && n <= 3600_000 / factor))
                return false;
            value = TimeSpan.FromMilliseconds(n * factor);
            return true;
        }
        return false;
    }
}
