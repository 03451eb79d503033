using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;

namespace VlmCaption
{
    /// <summary>
    /// Reads and writes the catalogue's options on any object by their property names (<see cref="ConfigOption.Property"/>),
    /// so a plain option is named once, in <see cref="ConfigOptions"/>, and every place that fills in defaults,
    /// copies settings across or records them takes it without being told: <see cref="CaptionConfig"/>'s defaults,
    /// the reader's numbers and switches, the parameters laid over caption.yaml, image preparation's options and a
    /// batch run's settings fingerprint.
    /// </summary>
    public static class ConfigValues
    {
        private static readonly ConcurrentDictionary<(Type, string), PropertyInfo?> Properties = new ConcurrentDictionary<(Type, string), PropertyInfo?>();

        /// <summary>The option's property on <paramref name="type"/>, or null when it has none.</summary>
        public static PropertyInfo? PropertyOf(Type type, ConfigOption option) =>
            Properties.GetOrAdd((type, option.Property), key => key.Item1.GetProperty(key.Item2, BindingFlags.Public | BindingFlags.Instance) is PropertyInfo p && p.CanWrite ? p : null);

        /// <summary>The options <paramref name="type"/> has a property for, in catalogue order.</summary>
        public static IEnumerable<ConfigOption> OptionsOf(Type type) => ConfigOptions.All.Where(option => PropertyOf(type, option) is not null);

        /// <summary>Sets every option with a stated default (numbers and switches) that <paramref name="target"/> has a property for.</summary>
        public static void ApplyDefaults(object target)
        {
            foreach (ConfigOption option in OptionsOf(target.GetType()))
            {
                if (option.Default is object value && option.Kind != "text" && option.Kind != "choice")
                {
                    Set(target, option, value);
                }
            }
        }

        /// <summary>
        /// Gives a cmdlet's number parameters that stand for a key the key's default (the catalogue names the
        /// parameter and its cmdlets), for a cmdlet whose defaults are the catalogue's when no caption.yaml is given;
        /// what a parameter holds is used only when it is typed, so this is what help and Get-Command show.
        /// </summary>
        public static void ApplyParameterDefaults(object cmdlet, string command)
        {
            foreach (ConfigOption option in ConfigOptions.All)
            {
                if ((option.Kind == "integer" || option.Kind == "number") && option.Default is object value && option.Commands.Contains(command)
                    && cmdlet.GetType().GetProperty(option.Parameter) is PropertyInfo property)
                {
                    property.SetValue(cmdlet, Convert.ChangeType(value, property.PropertyType, CultureInfo.InvariantCulture));
                }
            }
        }

        /// <summary>Sets an option's property, converting numbers to the property's type.</summary>
        public static void Set(object target, ConfigOption option, object? value)
        {
            PropertyInfo property = PropertyOf(target.GetType(), option) ?? throw new ArgumentException($"{target.GetType().Name} has no property for '{option.Key}'.");
            Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            property.SetValue(target, value is null || type.IsInstanceOfType(value) ? value : Convert.ChangeType(value, type, CultureInfo.InvariantCulture));
        }

        /// <summary>An option's value on <paramref name="source"/>.</summary>
        public static object? Get(object source, ConfigOption option) =>
            (PropertyOf(source.GetType(), option) ?? throw new ArgumentException($"{source.GetType().Name} has no property for '{option.Key}'.")).GetValue(source);

        /// <summary>A new <typeparamref name="T"/> holding every option of <paramref name="config"/> it has a property for.</summary>
        public static T Project<T>(CaptionConfig config)
            where T : new()
        {
            var target = new T();
            foreach (ConfigOption option in OptionsOf(typeof(T)))
            {
                Set(target, option, Get(config, option));
            }

            return target;
        }

        /// <summary>"key value, key value" of every option <paramref name="source"/> has a property for, in catalogue order.</summary>
        public static string Describe(object source) =>
            string.Join(", ", OptionsOf(source.GetType()).Select(option => $"{option.Key} {Convert.ToString(Get(source, option), CultureInfo.InvariantCulture)}"));
    }
}
