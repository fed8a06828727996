import { createTheme, darken, defaultVariantColorsResolver, parseThemeColor, type CSSVariablesResolver, type VariantColorsResolver } from '@mantine/core';

/**
 * Mantine's default shades put light text on light backgrounds below WCAG AA (4.5:1): green, orange
 * and yellow text on white, white on a green button, dimmed grey descriptions. Every coloured text and
 * filled background is therefore taken from the darkest shade, darkened further; the browser tests
 * check each page with axe-core, so a regression fails the build rather than a reader.
 */
const variantColorResolver: VariantColorsResolver = (input) => {
  const base = defaultVariantColorsResolver(input);
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  if (!parsed.isThemeColor) return base;
  const darkest = input.theme.colors[parsed.color]![9];
  const text = darken(darkest, 0.3);
  switch (input.variant) {
    case 'light':
    case 'subtle':
    case 'transparent':
      return { ...base, color: text, hoverColor: text };
    case 'outline':
      return { ...base, color: text, hoverColor: text, border: `1px solid ${text}` };
    case 'filled':
      return { ...base, background: darken(darkest, 0.25), hover: darken(darkest, 0.4), color: 'var(--mantine-color-white)' };
    default:
      return base;
  }
};

export const theme = createTheme({ primaryColor: 'indigo', primaryShade: 8, fontFamily: 'system-ui, sans-serif', variantColorResolver });

/** Dimmed text (descriptions, captions) one shade darker than Mantine's, and so are fields' error messages, for the same reason. */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {}, light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', '--mantine-color-error': 'var(--mantine-color-red-9)' }, dark: {},
});
