using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FastEndpoints;
using FluentValidation;
using FluentValidation.Internal;
using FluentValidation.Validators;
using NJsonSchema;
using NJsonSchema.Generation;
using NSwag;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Infrastructure.OpenApi;

/// <summary>
/// The validator limits FastEndpoints.Swagger does not write: <c>enum</c> (OneOf, EachOneOf), <c>format</c>
/// (RFC 3339 date-time, email) and <c>minLength</c> of trimmed lengths on body schemas; and on query parameters,
/// which it documents without any rule, every limit (length, range, enum, format). Conditional rules are left out.
/// </summary>
internal static class ValidatorLimits
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, Facets>> ByRequestType = new();

    // Request type -> its Validator<T> (FastEndpoints ties them the same way).
    private static readonly Lazy<Dictionary<Type, Type>> Validators = new(() => typeof(ValidatorLimits).Assembly.GetTypes()
        .Where(t => t is { IsAbstract: false, BaseType.IsGenericType: true } && t.BaseType.GetGenericTypeDefinition() == typeof(Validator<>))
        .ToDictionary(t => t.BaseType!.GenericTypeArguments[0]));

    /// <summary>The limits per member name (as declared in C#) of <paramref name="requestType"/>'s validator, or none.</summary>
    public static IReadOnlyDictionary<string, Facets> For(Type requestType) => ByRequestType.GetOrAdd(requestType, static type =>
        Validators.Value.TryGetValue(type, out var validatorType) && Activator.CreateInstance(validatorType) is IEnumerable<IValidationRule> rules
            ? Collect(rules, new Dictionary<string, Facets>(StringComparer.OrdinalIgnoreCase))
            : new Dictionary<string, Facets>());

    private static Dictionary<string, Facets> Collect(IEnumerable<IValidationRule> rules, Dictionary<string, Facets> limits)
    {
        foreach (var rule in rules)
        {
            if (rule is IIncludeRule)
            {
                foreach (var adaptor in rule.Components.Select(c => c.Validator).OfType<IChildValidatorAdaptor>())
                {
                    if (Activator.CreateInstance(adaptor.ValidatorType) is IEnumerable<IValidationRule> included)
                    {
                        Collect(included, limits);
                    }
                }

                continue;
            }

            if (rule.PropertyName is null || rule.HasCondition || rule.HasAsyncCondition)
            {
                continue;
            }

            var facets = limits.TryGetValue(rule.PropertyName, out var found) ? found : limits[rule.PropertyName] = new Facets();
            foreach (var component in rule.Components.Where(c => !c.HasCondition && !c.HasAsyncCondition))
            {
                facets.Add(component.Validator);
            }
        }

        return limits;
    }

    /// <summary>The documented limits of one member.</summary>
    internal sealed class Facets
    {
        private bool notEmpty;
        private int? minLength;
        private int? maxLength;
        private decimal? minimum;
        private decimal? maximum;
        private string? format;
        private IReadOnlyList<string>? allowed;

        /// <summary>Whether a NotNull or NotEmpty rule makes the member required.</summary>
        public bool Required { get; private set; }

        public void Add(IPropertyValidator validator)
        {
            switch (validator)
            {
                case INotEmptyValidator:
                    Required = notEmpty = true;
                    break;
                case INotNullValidator:
                    Required = true;
                    break;
                case ILengthValidator length:
                    minLength = length.Min > 0 ? Math.Max(minLength ?? 0, length.Min) : minLength;
                    maxLength = length.Max > 0 ? length.Max : maxLength;
                    break;
                case IBetweenValidator { From: IConvertible from, To: IConvertible to }:
                    minimum = from.ToDecimal(CultureInfo.InvariantCulture);
                    maximum = to.ToDecimal(CultureInfo.InvariantCulture);
                    break;
                case IEmailValidator:
                    format = "email";
                    break;
                case IFormatValidator documented:
                    format = documented.Format;
                    break;
                case IAllowedValuesValidator values:
                    allowed = values.Values;
                    break;
            }
        }

        /// <summary>Writes the limits onto <paramref name="schema"/> (onto its items for an array); <paramref name="all"/> false writes only what FastEndpoints.Swagger leaves out.</summary>
        public void ApplyTo(JsonSchema schema, bool all)
        {
            var isArray = schema.Type.HasFlag(JsonObjectType.Array);
            var target = isArray && schema.Item is { } items ? items : schema;
            if (notEmpty && isArray)
            {
                schema.MinItems = 1;
                schema.MinLength = null; // FastEndpoints.Swagger writes NotEmpty on an array as minLength
            }

            var min = notEmpty && !isArray ? Math.Max(minLength ?? 0, 1) : minLength;
            if (min is not null && (all || target.MinLength is null or 0))
            {
                target.MinLength = min;
            }

            if (all)
            {
                target.MaxLength = maxLength ?? target.MaxLength;
                target.Minimum = minimum ?? target.Minimum;
                target.Maximum = maximum ?? target.Maximum;
            }

            target.Format = format ?? target.Format;
            if (allowed is not null)
            {
                target.Enumeration.Clear();
                foreach (var value in allowed)
                {
                    target.Enumeration.Add(value);
                }
            }
        }
    }
}

/// <summary>Adds the limits FastEndpoints.Swagger leaves out to the schema of every validated request body.</summary>
internal sealed class DocumentedRulesSchemaProcessor : ISchemaProcessor
{
    public void Process(SchemaProcessorContext context)
    {
        var schema = context.Schema;
        foreach (var member in context.ContextualType.Type.GetProperties())
        {
            if (member.GetCustomAttribute<DocumentedItemsAttribute>() is { } items
                && schema.Properties.TryGetValue(JsonNamingPolicy.CamelCase.ConvertName(member.Name), out var list) && list.Item is { } item)
            {
                item.Enumeration.Clear();
                foreach (var value in items.Values)
                {
                    item.Enumeration.Add(value);
                }
            }
        }

        foreach (var (member, facets) in ValidatorLimits.For(context.ContextualType.Type))
        {
            if (schema.Properties.TryGetValue(JsonNamingPolicy.CamelCase.ConvertName(member), out var property))
            {
                facets.ApplyTo(property, all: false);
            }
        }
    }
}

/// <summary>Writes the validator limits of an endpoint's <c>[QueryParam]</c>, <c>[FromHeader]</c> and route members onto its query, header and path parameters.</summary>
internal static class QueryParameterRules
{
    /// <summary>Applies the limits of <paramref name="endpoint"/>'s request validator to <paramref name="operation"/>'s query parameters.</summary>
    public static void Apply(OpenApiOperation operation, EndpointDefinition endpoint)
    {
        var limits = ValidatorLimits.For(endpoint.ReqDtoType);
        if (limits.Count == 0)
        {
            return;
        }

        foreach (var parameter in operation.Parameters.Where(p => p.Kind is OpenApiParameterKind.Query or OpenApiParameterKind.Header or OpenApiParameterKind.Path))
        {
            var property = endpoint.ReqDtoType.GetProperties().FirstOrDefault(p => parameter.Kind switch
            {
                OpenApiParameterKind.Query => string.Equals(p.GetCustomAttribute<BindFromAttribute>()?.Name ?? p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)
                                              && p.GetCustomAttribute<QueryParamAttribute>() is not null,
                OpenApiParameterKind.Header => string.Equals(p.GetCustomAttribute<FromHeaderAttribute>()?.HeaderName, parameter.Name, StringComparison.OrdinalIgnoreCase),
                _ => string.Equals(p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase),
            });
            if (property is not null && limits.TryGetValue(property.Name, out var facets))
            {
                facets.ApplyTo(parameter.Schema ?? parameter, all: true);
                parameter.IsRequired |= facets.Required;
            }

            // A repeatable parameter's [MaxLength] is its most repetitions (the validator enforces it too).
            if (property?.GetCustomAttribute<System.ComponentModel.DataAnnotations.MaxLengthAttribute>() is { } most
                && (parameter.Schema ?? parameter).Type.HasFlag(JsonObjectType.Array))
            {
                (parameter.Schema ?? parameter).MaxItems = most.Length;
            }
        }
    }
}

/// <summary>
/// The values the elements of a list property of a response can take, for the OpenAPI document (<c>items.enum</c>);
/// request properties state theirs with a validator rule (<c>EachOneOf</c>) instead.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class DocumentedItemsAttribute(params string[] values) : Attribute
{
    /// <summary>The allowed element values.</summary>
    public IReadOnlyList<string> Values { get; } = values;
}
