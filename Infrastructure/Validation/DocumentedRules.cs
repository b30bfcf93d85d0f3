using FluentValidation;
using FluentValidation.Validators;
using SliceApi.Infrastructure.Json;

namespace SliceApi.Infrastructure.Validation;

/// <summary>A rule that allows only a fixed set of values; the OpenAPI document lists them as <c>enum</c>.</summary>
internal interface IAllowedValuesValidator
{
    /// <summary>The allowed values, in the order the document lists them.</summary>
    IReadOnlyList<string> Values { get; }
}

/// <summary>A rule that requires a string format; the OpenAPI document shows it as <c>format</c>.</summary>
internal interface IFormatValidator
{
    /// <summary>The JSON Schema format name, e.g. <c>date-time</c>.</summary>
    string Format { get; }
}

/// <summary>
/// Rules whose limits the OpenAPI document can state (OpenApi/ValidatorLimits reads them), for strings that
/// arrive as text, such as query parameters.
/// </summary>
internal static class DocumentedRules
{
    /// <summary>The value, when present, must be one of <paramref name="values"/> (ordinal comparison).</summary>
    public static IRuleBuilderOptions<T, string?> OneOf<T>(this IRuleBuilder<T, string?> rule, IReadOnlyList<string> values) =>
        rule.SetValidator(new OneOfValidator<T>(values));

    /// <summary>Every element, when the array is present, must be one of <paramref name="values"/> (ordinal comparison).</summary>
    public static IRuleBuilderOptions<T, string[]?> EachOneOf<T>(this IRuleBuilder<T, string[]?> rule, IReadOnlyList<string> values) =>
        rule.SetValidator(new EachOneOfValidator<T>(values));

    /// <summary>The value, when present, must be an RFC 3339 date-time with an offset (section 5.6).</summary>
    public static IRuleBuilderOptions<T, string?> Rfc3339DateTime<T>(this IRuleBuilder<T, string?> rule) =>
        rule.SetValidator(new Rfc3339DateTimeValidator<T>());

    /// <summary>
    /// The value, when present, must be <paramref name="min"/> to <paramref name="max"/> characters after trimming
    /// (it is stored trimmed); documented as minLength/maxLength.
    /// </summary>
    public static IRuleBuilderOptions<T, string?> TrimmedLength<T>(this IRuleBuilder<T, string?> rule, int min, int max) =>
        rule.SetValidator(new TrimmedLengthValidator<T>(min, max));

    /// <summary>The value, when present, must satisfy <paramref name="isValid"/>; documented as <c>format</c>.</summary>
    public static IRuleBuilderOptions<T, string?> HasFormat<T>(this IRuleBuilder<T, string?> rule, string format, Func<string, bool> isValid) =>
        rule.SetValidator(new FormatValidator<T>(format, isValid));

    private sealed class TrimmedLengthValidator<T>(int min, int max) : PropertyValidator<T, string?>, ILengthValidator
    {
        public int Min => min;

        public int Max => max;

        public override string Name => "TrimmedLengthValidator";

        public override bool IsValid(ValidationContext<T> context, string? value) => value is null || value.Trim().Length >= min && value.Trim().Length <= max;

        protected override string GetDefaultMessageTemplate(string errorCode) => $"'{{PropertyName}}' must be {min} to {max} characters after trimming.";
    }

    private sealed class FormatValidator<T>(string format, Func<string, bool> isValid) : PropertyValidator<T, string?>, IFormatValidator
    {
        public string Format => format;

        public override string Name => "FormatValidator";

        public override bool IsValid(ValidationContext<T> context, string? value) => value is null || isValid(value);

        protected override string GetDefaultMessageTemplate(string errorCode) => $"'{{PropertyName}}' must be a valid {format}.";
    }

    private sealed class OneOfValidator<T>(IReadOnlyList<string> values) : PropertyValidator<T, string?>, IAllowedValuesValidator
    {
        public IReadOnlyList<string> Values => values;

        public override string Name => "OneOfValidator";

        public override bool IsValid(ValidationContext<T> context, string? value) => value is null || values.Contains(value, StringComparer.Ordinal);

        protected override string GetDefaultMessageTemplate(string errorCode) => $"'{{PropertyName}}' must be one of: {string.Join(", ", values)}.";
    }

    private sealed class EachOneOfValidator<T>(IReadOnlyList<string> values) : PropertyValidator<T, string[]?>, IAllowedValuesValidator
    {
        public IReadOnlyList<string> Values => values;

        public override string Name => "EachOneOfValidator";

        public override bool IsValid(ValidationContext<T> context, string[]? value) =>
            value is null || value.All(v => values.Contains(v, StringComparer.Ordinal));

        protected override string GetDefaultMessageTemplate(string errorCode) =>
            $"'{{PropertyName}}' must be one of: {string.Join(", ", values)}; repeat the parameter for several.";
    }

    private sealed class Rfc3339DateTimeValidator<T> : PropertyValidator<T, string?>, IFormatValidator
    {
        public string Format => "date-time";

        public override string Name => "Rfc3339DateTimeValidator";

        public override bool IsValid(ValidationContext<T> context, string? value) =>
            value is null || Rfc3339DateTimeOffsetConverter.TryParse(value, out _);

        protected override string GetDefaultMessageTemplate(string errorCode) =>
            "'{PropertyName}' must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T17:00:00Z (send '+' as %2B).";
    }
}
