import { Combobox, InputBase, useCombobox } from '@mantine/core';
import { useEffect, useState } from 'react';

export interface PickerItem { key: string; name: string; systemName: string }

interface Props {
  label: string;
  items: PickerItem[];
  /** What is typed: a key when it names one (picked from the list or typed in full), else free text the API will judge. */
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  description?: string;
}

/**
 * A searchable list of entitlements grouped by system, each option named by its key (payments/read).
 * Built on Mantine's Combobox with a plain text input, so it is a labelled textbox that filters a
 * listbox; what someone typed is never thrown away, even when it matches nothing.
 */
export const EntitlementPicker = ({ label, items, value, onChange, error, description }: Props) => {
  const combobox = useCombobox({ onDropdownClose: () => combobox.resetSelectedOption() });
  const [search, setSearch] = useState(value);
  // A reset from outside (after a successful submission) empties the box too.
  useEffect(() => setSearch(value), [value]);
  const picked = items.some((i) => i.key === search);
  const needle = picked ? '' : search.trim().toLowerCase();
  const groups = new Map<string, PickerItem[]>();
  for (const item of items) {
    if (needle && !`${item.key} ${item.name} ${item.systemName}`.toLowerCase().includes(needle)) continue;
    groups.set(item.systemName, [...(groups.get(item.systemName) ?? []), item]);
  }
  return (
    <Combobox store={combobox} onOptionSubmit={(key) => { setSearch(key); onChange(key); combobox.closeDropdown(); }}>
      <Combobox.Target>
        <InputBase label={label} description={description} required error={error} placeholder="Search by system, name or key"
          value={search} rightSection={<Combobox.Chevron />} rightSectionPointerEvents="none"
          onChange={(e) => { setSearch(e.currentTarget.value); onChange(e.currentTarget.value); combobox.openDropdown(); combobox.updateSelectedOptionIndex(); }}
          onClick={() => combobox.openDropdown()} onFocus={() => combobox.openDropdown()} onBlur={() => combobox.closeDropdown()} />
      </Combobox.Target>
      <Combobox.Dropdown>
        <Combobox.Options mah={320} style={{ overflowY: 'auto' }}>
          {groups.size === 0 ? <Combobox.Empty>No entitlement matches</Combobox.Empty> : [...groups].map(([system, list]) => (
            <Combobox.Group label={system} key={system}>
              {list.map((item) => <Combobox.Option value={item.key} key={item.key} active={item.key === value}>{item.key}</Combobox.Option>)}
            </Combobox.Group>
          ))}
        </Combobox.Options>
      </Combobox.Dropdown>
    </Combobox>
  );
};
