using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace VlmCaption.Hints
{
    /// <summary>
    /// Writes JSON the way Python's json.dumps does (the original tool's hint texts), so that hints match it
    /// byte for byte: ", " and ": " separators, 2-space indentation when asked, floats as Python's repr,
    /// duplicate keys resolved as a dict would. Unlike the original, non-ASCII text is written as is.
    /// </summary>
    internal static class PythonJson
    {
        /// <summary>json.dumps(value, indent=2, ensure_ascii=False).</summary>
        public static string Indented(JsonElement value)
        {
            var text = new StringBuilder();
            Write(text, value, indent: 0, pretty: true);
            return text.ToString();
        }

        /// <summary>json.dumps(value, ensure_ascii=False).</summary>
        public static string Compact(JsonElement value)
        {
            var text = new StringBuilder();
            Write(text, value, indent: 0, pretty: false);
            return text.ToString();
        }

        /// <summary>str(value) in Python: strings bare, True/False/None, floats as repr; lists and dicts as compact JSON.</summary>
        public static string Str(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.True => "True",
            JsonValueKind.False => "False",
            JsonValueKind.Null => "None",
            JsonValueKind.Number => Number(value),
            _ => Compact(value),
        };

        /// <summary>Python's truth value: empty containers, "", 0, false and null are false.</summary>
        public static bool IsTruthy(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Object => value.EnumerateObject().Any(),
            JsonValueKind.Array => value.GetArrayLength() > 0,
            JsonValueKind.String => value.GetString()!.Length > 0,
            JsonValueKind.Number => value.GetDouble() != 0,
            JsonValueKind.True => true,
            _ => false,
        };

        /// <summary>The members of an object as a Python dict holds them: first position, last value.</summary>
        public static List<KeyValuePair<string, JsonElement>> Members(JsonElement obj)
        {
            var members = new List<KeyValuePair<string, JsonElement>>();
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (JsonProperty property in obj.EnumerateObject())
            {
                if (index.TryGetValue(property.Name, out int at))
                {
                    members[at] = new KeyValuePair<string, JsonElement>(property.Name, property.Value);
                }
                else
                {
                    index[property.Name] = members.Count;
                    members.Add(new KeyValuePair<string, JsonElement>(property.Name, property.Value));
                }
            }

            return members;
        }

        private static void Write(StringBuilder text, JsonElement value, int indent, bool pretty)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    List<KeyValuePair<string, JsonElement>> members = Members(value);
                    WriteContainer(text, '{', '}', members.Count, indent, pretty, i =>
                    {
                        WriteString(text, members[i].Key);
                        text.Append(": ");
                        Write(text, members[i].Value, indent + 1, pretty);
                    });
                    break;
                case JsonValueKind.Array:
                    JsonElement[] items = value.EnumerateArray().ToArray();
                    WriteContainer(text, '[', ']', items.Length, indent, pretty, i => Write(text, items[i], indent + 1, pretty));
                    break;
                case JsonValueKind.String:
                    WriteString(text, value.GetString() ?? "");
                    break;
                case JsonValueKind.Number:
                    text.Append(Number(value));
                    break;
                case JsonValueKind.True:
                    text.Append("true");
                    break;
                case JsonValueKind.False:
                    text.Append("false");
                    break;
                default:
                    text.Append("null");
                    break;
            }
        }

        private static void WriteContainer(StringBuilder text, char open, char close, int count, int indent, bool pretty, Action<int> writeItem)
        {
            text.Append(open);
            if (count == 0)
            {
                text.Append(close);
                return;
            }

            for (int i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    text.Append(pretty ? "," : ", ");
                }

                if (pretty)
                {
                    text.Append('\n').Append(' ', (indent + 1) * 2);
                }

                writeItem(i);
            }

            if (pretty)
            {
                text.Append('\n').Append(' ', indent * 2);
            }

            text.Append(close);
        }

        private static void WriteString(StringBuilder text, string value)
        {
            text.Append('"');
            foreach (char c in value)
            {
                switch (c)
                {
                    case '"': text.Append("\\\""); break;
                    case '\\': text.Append("\\\\"); break;
                    case '\n': text.Append("\\n"); break;
                    case '\r': text.Append("\\r"); break;
                    case '\t': text.Append("\\t"); break;
                    case '\b': text.Append("\\b"); break;
                    case '\f': text.Append("\\f"); break;
                    default:
                        if (c < 0x20)
                        {
                            text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            text.Append(c);
                        }

                        break;
                }
            }

            text.Append('"');
        }

        /// <summary>Integers as written; other numbers as Python's float repr (1.0, 1e-05, 1e+16).</summary>
        private static string Number(JsonElement value)
        {
            string raw = value.GetRawText();
            if (raw.IndexOfAny(new[] { '.', 'e', 'E' }) < 0)
            {
                return raw == "-0" ? "0" : raw;
            }

            return FloatRepr(value.GetDouble());
        }

        internal static string FloatRepr(double number)
        {
            if (double.IsInfinity(number))
            {
                return number > 0 ? "Infinity" : "-Infinity";
            }

            if (number == 0)
            {
                return 1 / number < 0 ? "-0.0" : "0.0";
            }

            // "R" gives the shortest round-trip digits on .NET Core 3.0 and later; lay them out by Python's rules.
            string r = number.ToString("R", CultureInfo.InvariantCulture);
            bool negative = r[0] == '-';
            if (negative)
            {
                r = r.Substring(1);
            }

            int exponentAt = r.IndexOfAny(new[] { 'E', 'e' });
            int exponentPart = exponentAt < 0 ? 0 : int.Parse(r.Substring(exponentAt + 1), CultureInfo.InvariantCulture);
            string mantissaText = exponentAt < 0 ? r : r.Substring(0, exponentAt);
            int dot = mantissaText.IndexOf('.');
            string integerPart = dot < 0 ? mantissaText : mantissaText.Substring(0, dot);
            string digits = integerPart + (dot < 0 ? "" : mantissaText.Substring(dot + 1));
            int decimalPoint = integerPart.Length + exponentPart;
            int leadingZeros = 0;
            while (leadingZeros < digits.Length - 1 && digits[leadingZeros] == '0')
            {
                leadingZeros++;
            }

            digits = digits.Substring(leadingZeros).TrimEnd('0');
            decimalPoint -= leadingZeros;
            if (digits.Length == 0)
            {
                digits = "0";
            }

            int exponent = decimalPoint - 1;
            string result;
            if (decimalPoint > 16 || decimalPoint <= -4)
            {
                string mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits.Substring(1);
                result = mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
            }
            else if (decimalPoint <= 0)
            {
                result = "0." + new string('0', -decimalPoint) + digits;
            }
            else if (decimalPoint >= digits.Length)
            {
                result = digits + new string('0', decimalPoint - digits.Length) + ".0";
            }
            else
            {
                result = digits.Substring(0, decimalPoint) + "." + digits.Substring(decimalPoint);
            }

            return negative ? "-" + result : result;
        }
    }
}
